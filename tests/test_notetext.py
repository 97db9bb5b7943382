"""Clean, typed sentences of the notes (retrieval/notetext.py): truecasing learned from the corpus, glued headings
and words split, block kinds and the standalone flag."""

from __future__ import annotations

import pytest

from coursemate.retrieval.notetext import (
    CaseModel,
    comes_from,
    is_lowercased,
    line_kind,
    refers_back_in_opening,
    sentence_issue,
    split_run_together,
    tidy,
)
from coursemate.retrieval.sentences import note_sentences

CASED = ("We train ResNet on ImageNet with SGD, and BN after every convolution. The ViT paper used AdamW. "
         "Google released BERT in 2018. " * 3)
LOWERCASED = ("we train the network with sgd and momentum. it uses bn after every layer and the loss goes down. "
              "i think resnet on imagenet is a good start. " * 10)


@pytest.fixture(scope="module")
def case() -> CaseModel:
    return CaseModel.learn([CASED, LOWERCASED])


def test_a_lowercased_export_is_recognized():
    assert is_lowercased(LOWERCASED) and not is_lowercased(CASED)


def test_truecasing_uses_the_cased_forms_of_the_corpus(case):
    assert tidy("i think resnet on imagenet with sgd and bn is a good start.", case) == \
        "I think ResNet on ImageNet with SGD and BN is a good start."
    assert tidy("e.g. the vit paper used adamw.", case).startswith("E.g. the ViT paper used AdamW")


def test_a_heading_glued_to_its_sentence_is_cut_off(case):
    assert tidy("Ricap ricap 22 nov 2018 ricap crops four training images and patches them together.", case) == \
        "Ricap crops four training images and patches them together."
    assert tidy("clip clip stands for contrastive language-image pre-training.", case) == \
        "Clip stands for contrastive language-image pre-training."


@pytest.mark.parametrize("line, sentence", [
    ("learning rates the learning rate is a hyperparameter that controls the step size.",
     "The learning rate is a hyperparameter that controls the step size."),
    ("kernels let's look at what 3x3 kernels are trying to extract from the image.",
     "Let's look at what 3x3 kernels are trying to extract from the image."),
    ("step 2 in the second step, we pass these patches through the same linear layer.",
     "In the second step, we pass these patches through the same linear layer."),
    ("advanced convolutions pointwise convolutions concept of channels receptive fields we observe that large "
     "receptive fields help.", "We observe that large receptive fields help."),  # a session's list of headings
    # a clause, not a heading: a verb, a quantifier, a pronoun or an article before the repeated word
    ("ricap crops four training images and patches them to construct a new training image.",
     "Ricap crops four training images and patches them to construct a new training image."),
    ("document frequency represents the number of documents containing a term.",
     "Document frequency represents the number of documents containing a term."),
    ("each channel in the kernel will look only at one channel of the input.",
     "Each channel in the kernel will look only at one channel of the input."),
    ("minimum edit distanceis the minimum number of edits to transform one string to another.",
     "Minimum edit distance is the minimum number of edits to transform one string to another."),
])
def test_a_heading_that_the_sentence_names_again_is_cut_off(case, line, sentence):
    assert tidy(line, case) == sentence


def test_a_heading_that_the_export_outline_lists_is_cut_off():
    session = ("class activation maps gradcam learning rates weight updates sgd momentum rmsprop adam one cycle policy "
               "reduce lr on plateau what kind of minima do we want\n" + LOWERCASED)
    case = CaseModel.learn([CASED, session])
    assert tidy('reduce lr on plateau the "patience" parameter sets how long to wait before the decay.', case) == \
        'The "patience" parameter sets how long to wait before the decay.'
    assert tidy("momentum helps the optimizer keep its direction across steps.", case) == \
        "Momentum helps the optimizer keep its direction across steps."  # a heading word, then a verb: a clause


def test_a_caption_line_ending_in_its_image_credit_is_a_figure(case):
    text = ("Example prompt showing the visual input capability. The prompt asks about an image with panels.source\n"
            "The open source library is what we use for this purpose in the course.")
    assert [(s.kind, s.issue) for s in note_sentences(text, case)] == [("figure", "caption"), ("figure", "caption"),
                                                                         ("prose", "")]


def test_sentences_run_together_without_a_full_stop_are_split_apart():
    assert split_run_together("Embed the patches (flattening the image) Here, patches are treated as tokens.") == \
        ["Embed the patches (flattening the image)", "Here, patches are treated as tokens."]
    assert split_run_together("We use it. The Matrix is a film about the ReLU unit.") == \
        ["We use it. The Matrix is a film about the ReLU unit."]


@pytest.mark.parametrize("line, sentence", [
    # a label the sentence restates is dropped; one it does not restate stays
    ("pooling the gradients: pool the gradients spatially, by taking the average.",
     "Pool the gradients spatially, by taking the average."),
    ("weighing the outputs: multiply the feature maps with the pooled gradients.",
     "Weighing the outputs: multiply the feature maps with the pooled gradients."),
    # a label the sentence points at stays with it (it is what "this command" names), unless it points back itself
    ("Git push: this command is used to push local commits to the remote repository.",
     "Git push: This command is used to push local commits to the remote repository."),
    ("This is how we calculate loss: this is the formula for it.",
     "This is how we calculate loss: this is the formula for it."),
    # a label that names a model is the subject of the verb after it; a domain or plain noun label stays a label
    ("MobileNetV3-Small: Prioritizes low latency and efficiency.",
     "MobileNetV3-Small prioritizes low latency and efficiency."),
    ("Exponential Linear Unit (ELU): Smoothens the output.", "Exponential Linear Unit (ELU) smoothens the output."),
    ("Healthcare: Analyzes medical records for insights.", "Healthcare: Analyzes medical records for insights."),
    ("GAN: Loss drops as training goes on.", "GAN: Loss drops as training goes on."),  # "Loss" is no verb
    ("Inverted Residuals: Channels are expanded and then reduced.",
     "Inverted Residuals: Channels are expanded and then reduced."),
    # a speaker's aside that opens a sentence is dropped; a parenthesis that is the subject stays
    ("(remember heads) the paper introduces the transformer, an encoder-decoder model.",
     "The paper introduces the transformer, an encoder-decoder model."),
    ("(Xception, 2017) is built from depthwise separable convolutions.",
     "(Xception, 2017) is built from depthwise separable convolutions."),
])
def test_labels_and_asides_around_a_sentence(case, line, sentence):
    assert tidy(line, case) == sentence


def test_a_connective_that_only_links_to_the_sentence_before_is_dropped(case):
    assert tidy("Here, position embeddings are used to retain positional information.", case) == \
        "Position embeddings are used to retain positional information."
    assert tidy("thus, the model learns only the residual.", case) == "The model learns only the residual."
    clean = tidy("However, it does not imply higher accuracy on the validation set.", case)
    assert clean == "It does not imply higher accuracy on the validation set."
    assert sentence_issue(clean, clean, "prose") == ("prose", "back-reference")  # "it" still points back
    assert tidy("Similarly, police tries to detect the fake money.", case).startswith("Similarly, ")  # an analogy


def test_a_restated_conclusion_reads_alone_but_an_inference_keeps_its_evidence(case):
    assert tidy("This also means that two layers of 3x3 have a receptive field of 5x5.", case) == \
        "Two layers of 3x3 have a receptive field of 5x5."
    assert tidy("This suggests that large receptive fields help.", case).startswith("This suggests")


def test_words_glued_where_links_were_stripped_are_split(case):
    assert tidy("GoogLeNet used 12x fewer parameters thanResNetused in 2012.", case) == \
        "GoogLeNet used 12x fewer parameters than ResNet used in 2012."
    assert tidy("All layers collapse into onewith linear activations.", case) == \
        "All layers collapse into one with linear activations."
    assert tidy("As stated by Ian Goodfellow on hispaper, GAN is a framework.", case) == \
        "As stated by Ian Goodfellow on his paper, GAN is a framework."
    assert tidy("Google releasedPaLM as a large language model in 2022.", case) == \
        "Google released PaLM as a large language model in 2022."  # a link's name glued after a known word
    assert tidy("Duplicate this file to your collaboratory and read it.", case) == \
        "Duplicate this file to your collaboratory and read it."  # an unknown word without a function word stays


@pytest.mark.parametrize("text, kind, issue", [
    ("Batch normalization normalizes the activations of each mini-batch before the next layer.", "prose", ""),
    ("The convolution operation for input size 5x5 with filter of 3x3 is shown below:", "figure", "figure"),
    ("Then, the computational cost with width multiplier becomes:", "figure", "lead-in without its list"),
    ("A linear activation function has two major problems: 1", "figure", "lead-in without its list"),
    ("Activation functions and which one to use", "prose", "no end"),
    ("Copy paste your training log (you must be running validation after each epoch share the link.", "prose",
     "unbalanced"),
    ("If is small, the previous gradients are soon discarded by the optimizer.", "figure", "missing symbol"),
    ("from smolagents import CodeAgent, HfApiModel, DuckDuckGoSearchTool", "code", "code"),
    ("Results: parameters: 13.8k best train accuracy: 99.15 best test accuracy: 99.5", "table", "table"),
    ("It keeps the cell state from exploding over long sequences of inputs.", "prose", "back-reference"),
    ("Here the training error of the 20-layer network is lower than that of the 56-layer one.", "prose",
     "back-reference"),
    ("Of course global shutter cameras are complex, expensive and bulky to make.", "prose", "back-reference"),
    ("As stated by Ian Goodfellow in his paper, GAN is a framework for generative models.", "prose", ""),
    ("He proposed the framework for estimating generative models in 2014.", "prose", "back-reference"),
    ("The paper addresses the degradation problem by introducing a deep residual learning framework.", "prose",
     "back-reference"),  # which paper: the sentence before names it
    ("Thereby mixup makes deep CNNs robust to adversarial examples and stabilizes GAN training.", "prose",
     "back-reference"),
    ("A residual block is displayed as the following: the residual unit obtains F(x) from x.", "figure", "figure"),
    ("Why do we need an activation function at all in a deep network?", "prose", "question"),
    ("Dropout (what gets dropped? How does it help? ) weight penalty l1 and l2 are the most common.", "prose",
     "run-on"),
    ("Receptive fields convolution mathematics max pooling max pooling in variances layer count kernels here.",
     "prose", "repeated words"),
    ("Let's check out the library that you'd be using to see why they are useful.", "prose", "narration"),
    ("The case is different with several input channels, and we'll cover this aspect later.", "prose", "narration"),
    ("Through experiments, we have learned that we should use around 32 or 64 kernels in the first layer.", "prose",
     ""),
])
def test_each_sentence_gets_its_block_kind_and_what_keeps_it_from_standing_alone(text, kind, issue):
    assert sentence_issue(text, text, line_kind(text)) == (kind, issue)


def test_a_lead_in_stays_with_its_list_and_search_still_sees_every_sentence(case):
    text = ("An LSTM cell has three gates that control its state:\n- The forget gate resets some cells to zero.\n"
            "- The input gate decides what new information is written.\n"
            "| forget gate | resets some cells to zero |\n```\noutputs, state = lstm(inputs, state)\n```")
    sentences = note_sentences(text, case)
    assert [s.kind for s in sentences] == ["lead", "list", "list", "table", "code"]
    assert [s.standalone for s in sentences] == [False, True, True, False, False]
    assert all(comes_from(s.text, text) for s in sentences)


@pytest.mark.parametrize("line, sentence", [
    ("DistilBERT: A smaller, faster version of BERT.", "DistilBERT is a smaller, faster version of BERT."),
    ("Depthwise convolution: A single filter per input channel.", "Depthwise convolution is a single filter per input "
                                                                  "channel."),
    ("Transformers: A family of models built on attention.", "Transformers: A family of models built on attention."),
    ("Example: A model trained on digits for one epoch.", "Example: A model trained on digits for one epoch."),
    ("Dropout: A model can overfit without it in training.", "Dropout: A model can overfit without it in training."),
])
def test_a_label_defined_by_a_noun_phrase_is_said_as_a_sentence(line, sentence):
    assert tidy(line, None) == sentence


def test_the_notes_own_bracketed_numbers_never_read_as_citations():
    assert tidy("Copy paste the output of torchsummary [125] and the training log.", None) == \
        "Copy paste the output of torchsummary and the training log."
    assert tidy("It is also called softargmax[1] in papers.", None) == "It is also called softargmax in papers."
    text = "Ricap mixes class labels like label smoothing [ref] in mixup, the pixel stays [source ] local."
    assert tidy(text, None) == "Ricap mixes class labels like label smoothing in mixup, the pixel stays local."
    assert comes_from(tidy(text, None), text)


@pytest.mark.parametrize("sentence, refers", [
    ("To overcome this trade-off, we introduce patch gaussian, a simple augmentation scheme.", True),
    ("If we have large sentence, calculating edit distance with mentioned approach becomes tedious.", True),
    ("In this paper, the authors train a residual network with 152 layers.", True),
    ("Minimum edit distance is the minimum number of edits required to transform one string to another.", False),
    ("Dropout is a regularization technique, and this technique reduces overfitting.", False),
])
def test_an_opening_clause_that_points_back_is_recognized(sentence, refers):
    assert refers_back_in_opening(sentence) == refers
