"""Grounding: answers tied to the notes, in one package.

- :mod:`.citations`: the citation model (``Citation``, ``Passage``, ``PassageLog``), the ``[n]`` markers, the
  refusal;
- :mod:`.render`: the one renderer of sources and citations (terminal text, what a model reads, HTML);
- :mod:`.questions`: a question's type and focus; :mod:`.acronyms`: the notes' abbreviations in a question;
- :mod:`.coverage`: whether the retrieved notes cover a question;
- :mod:`.extractive`: question-aware extractive answers; :mod:`.prompts`: the grounded answer's messages;
- :mod:`.verify`: citation checks of generated text.
"""
