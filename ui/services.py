"""What the UI's handlers share: the settings, the notes index, the training runs, the state store and the assistant.

One :class:`Services` object serves every browser session. The assistant (and the language model behind
it) is built once, on first use or by :meth:`Services.warm_up` at startup, never per request. Its conversations
live in the home's state store (:mod:`coursemate.state`), so they survive a restart of the UI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.state import StateStore, open_state

if TYPE_CHECKING:
    from coursemate.agents import CourseAssistant
    from coursemate.retrieval import NotesIndex
    from coursemate.tools.training import RunManager


class NotAllowed(CoursemateError):
    """A request the signed-in user is not allowed to make (only admins change the notes and read the question log)."""


class Services:
    """The long-lived objects behind the UI, created once per app."""

    def __init__(self, settings: Settings, index: NotesIndex, runs: RunManager | None = None) -> None:
        from coursemate.tools.training import RunManager

        self.settings = settings
        self.index = index
        self.runs = runs or RunManager(settings, confined=True)  # web requests: dataset paths in data_roots
        self.state: StateStore = open_state(settings)
        self.browser_secret = self.state.secret("browser_state")  # the same after a restart: local storage reads
        self._assistant: CourseAssistant | None = None
        self._lock = threading.Lock()
        self._notes_lock = threading.Lock()

    def assistant(self) -> CourseAssistant:
        """The course assistant, built on first use (loads the language model)."""
        with self._lock:
            if self._assistant is None:
                from coursemate.agents import CourseAssistant
                from coursemate.agents.conversation import ConversationStore

                conversations = ConversationStore(self.state, self.settings.max_conversations,
                                                  self.settings.conversation_idle_seconds)
                self._assistant = CourseAssistant(self.settings, index=self.index, conversations=conversations)
            return self._assistant

    def is_admin(self, user: str | None) -> bool:
        """Whether ``user`` may change the notes and see the Instructor tab: the users named with ``--admin`` under
        ``--auth``; without ``--auth`` (``user`` None) the single local user."""
        return user is None or user in self.settings.ui_admins

    def require_admin(self, user: str | None, action: str) -> None:
        """Refuse (:class:`NotAllowed`) ``action`` ("change the notes") to a user who is not an admin: the server
        checks every call, not only the page's buttons."""
        if not self.is_admin(user):
            raise NotAllowed(f"{user} may not {action}: only the users named with --admin may")

    def update_notes(self, change: Callable[[NotesIndex], NotesIndex]) -> NotesIndex:
        """Apply ``change`` (current index -> updated index) one at a time, then answer from the updated index."""
        with self._notes_lock:
            index = change(self.index)
            self.index = index
            with self._lock:
                if self._assistant is not None:
                    self._assistant.use_index(index)
            return index

    def runs_for(self, user: str | None) -> RunManager:
        """The training runs as ``user`` (the signed-in user with ``--auth``; None: the single local user)."""
        return self.runs.as_user(user)

    def warm_up(self) -> None:
        """Load the embedding model, the spelling corrector, the intent router and the language model now, so the
        first questions are answered fast (raises CoursemateError for a language model setting that cannot work)."""
        self.index.embed(["warm up"])
        assistant = self.assistant()
        _ = assistant.corrector  # loaded now, not by the first question
        _ = assistant.router  # its examples embedded now (seconds), not while the first students wait
        assistant.llm()
