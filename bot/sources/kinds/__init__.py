"""One module per kind of sender; `bot.sources.registry` names them."""
