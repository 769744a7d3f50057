"""The station board: `GET /board`, the alert stream `GET /api/v1/stream`, and board links.

`server.board.plugin.board_plugin` wires it in; `server.board.cli` is the `board-link` command
(kept apart so the command line stays light).
"""
