"""The fake Slack's external upload flow and workflow-function answers, driven by the real
slack_sdk client, so the report's uploads and the Workflow step are tested against what
Slack documents (files.getUploadURLExternal, the upload URL, files.completeUploadExternal;
functions.completeSuccess / completeError)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

try:  # works whether or not tests/ is a package
    from tests.fake_slack import UPLOAD_POST, FakeSlack
except ImportError:
    from fake_slack import UPLOAD_POST, FakeSlack  # type: ignore[no-redef]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def test_files_upload_v2_runs_the_three_steps_and_the_bytes_arrive(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    answer = await client.files_upload_v2(
        channel="D0MANAGER", initial_comment="November",
        file_uploads=[{"content": b"\x89PNG-bytes", "filename": "a.png", "title": "Chart"},
                      {"content": "x,y\n1,2\n", "filename": "a.csv", "title": "Figures"}])
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal", "files.getUploadURLExternal", UPLOAD_POST, UPLOAD_POST,
        "files.completeUploadExternal"]
    png, csv_file = slack.shared_files()
    assert (png.filename, png.length, png.data, png.title, png.channel_id) == (
        "a.png", 10, b"\x89PNG-bytes", "Chart", "D0MANAGER")
    assert (csv_file.data, csv_file.title, csv_file.initial_comment) == (b"x,y\n1,2\n", "Figures", "November")
    assert answer["files"] == [{"id": png.file_id, "title": "Chart"},
                               {"id": csv_file.file_id, "title": "Figures"}]


async def test_the_upload_flow_refuses_what_slack_refuses(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        await client.api_call("files.getUploadURLExternal", params={"filename": "a.png"})
    issued = await client.files_getUploadURLExternal(filename="a.png", length=3)
    with pytest.raises(SlackApiError, match="file_not_found"):  # nothing was uploaded yet
        await client.files_completeUploadExternal(files=[{"id": issued["file_id"]}])
    async with aiohttp.ClientSession() as http:
        async with http.post(str(issued["upload_url"]).rsplit("/", 1)[0] + "/F0NOPE", data=b"abc") as sent:
            assert sent.status == 404
        async with http.post(str(issued["upload_url"]), data=b"abc") as sent:
            assert (sent.status, await sent.text()) == (200, "OK - 3")
    done = await client.files_completeUploadExternal(files=[{"id": issued["file_id"]}])
    assert done["files"] == [{"id": issued["file_id"], "title": "a.png"}]
    assert slack.uploads[str(issued["file_id"])].channel_id is None  # no channel: kept private
    with pytest.raises(SlackApiError, match="file_not_found"):  # it can be completed once only
        await client.files_completeUploadExternal(files=[{"id": issued["file_id"]}])


async def test_workflow_functions_complete_with_success_or_error(slack: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    assert (await client.functions_completeSuccess(
        function_execution_id="Fx1", outputs={"assignee": "U01ALICE"}))["ok"] is True
    assert (await client.functions_completeError(function_execution_id="Fx2", error="no such queue"))["ok"]
    assert slack.function_results == [
        {"function_execution_id": "Fx1", "outcome": "success", "outputs": {"assignee": "U01ALICE"}},
        {"function_execution_id": "Fx2", "outcome": "error", "error": "no such queue"}]
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        await client.api_call("functions.completeSuccess", params={"outputs": "{}"})
