"""A question for the notes: answered from the course notes (retrieval and an extractive or generated answer), not
by a tool. Its examples and cues are what the tool intents are told apart from."""

from __future__ import annotations

from coursemate.agents.intents import QUESTION, Intent


class Question(Intent):
    name = QUESTION
    cues = (
        r"^(?:why|what (?:is|are|does|do|makes|happens)|how (?:does|do|can|is|are|many))\b",
        r"^(?:explain|is it true|when should|should i)\b",
        r"\b(?:should i|should we|would you recommend|is it (?:worth|better|a good idea)|which [\w ]+ should)\b",
    )
    examples = (
        "what is batch normalization?",
        "why does the course use global average pooling?",
        "how do the gates of an LSTM work?",
        "explain backpropagation",
        "what does a learning rate scheduler do?",
        "why does training loss go up when the learning rate is too high?",
        "what is the difference between sgd and adam?",
        "how many epochs are needed to train a cnn?",
        "why do we use a batch size that is a power of two?",
        "what happens if a network is trained for too many epochs?",
        "how does dropout reduce overfitting during training?",
        "what is one cycle learning rate policy?",
        "why is resnet easier to train than a plain deep network?",
        "how does data augmentation help a model?",
        "what is the receptive field of a convolution?",
        "what did the mnist exercise teach about parameters?",
        "what is the role of momentum in gradient descent?",
        "how do transformers use attention?",
    )


INTENT = Question()
