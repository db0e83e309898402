"""Availability: whether a member can take a lead now, and what changes it.

- `eligibility.py`: the facts of a seat (paused, on leave, hours, capacity) and the reason
  a member is left out of a lead, in words;
- `time_off.py`: pause, resume and leave, as members and managers ask for them;
- `slack_status.py`: a Slack status that says "out of office" pauses its member;
- `calendar_leaves.py`: absences from a member's calendar feed become leave;
- `hours.py`: working hours ("Mon-Fri 09:00-17:00") in a member's timezone;
- `timezones.py`: which names are timezones;
- `service.py`: each of the above as one transaction.
"""
