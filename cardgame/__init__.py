"""Discard: a multiplayer shedding card game played over WebSockets.

The code lives in three layers installed under this package: ``cardgame.fsm``
(pure rules and state machines), ``cardgame.net`` (trio I/O) and ``cardgame.cli``.
"""

__version__ = "0.1.0"
