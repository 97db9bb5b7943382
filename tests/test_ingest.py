"""Ingestion of notes from real files: every format, skipped files, and the shipped corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coursemate.errors import CoursemateError
from coursemate.retrieval.ingest import load_corpus
from coursemate.retrieval.types import Document

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_NOTES = REPO_ROOT / "data" / "notes"


def by_id(documents: list[Document]) -> dict[str, Document]:
    return {d.doc_id: d for d in documents}


def assert_sections_consistent(document: Document) -> None:
    """Sections are ordered, non-overlapping spans inside the text that together hold all of it."""
    assert document.sections, document.doc_id
    previous_end = 0
    for section in document.sections:
        assert previous_end <= section.start < section.end <= len(document.text), (document.doc_id, section)
        assert document.text[previous_end : section.start].strip() == "", (document.doc_id, section)
        previous_end = section.end
    assert document.text[previous_end:].strip() == ""


def section_titles(document: Document) -> list[str]:
    return [s.title for s in document.sections]


def make_pdf(pages: list[str]) -> bytes:
    """A small but valid PDF with one line of Helvetica text per page (written by hand, no library)."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for page_id, line in zip(page_ids, pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


# ----------------------------------------------------------------------------------------------
# Formats
# ----------------------------------------------------------------------------------------------


def test_markdown_front_matter_and_heading_sections(tmp_path: Path) -> None:
    (tmp_path / "bn.md").write_text(
        "---\n"
        "doc_id: batchnorm-notes\n"
        "title: Batch normalization\n"
        "source: https://example.org/bn\n"
        "session: 5\n"
        "date: 2024-12-07\n"
        "---\n"
        "# Batch normalization\n\nIntro line.\n\n"
        "## Why it helps\nIt rescales activations.\n\n"
        "```python\n# a comment, not a heading\nx = bn(x)\n```\n\n"
        "### Placement\nBefore the activation.\n\n"
        "#### Deep detail\nStill inside Placement.\n",
        encoding="utf-8",
    )
    documents, skipped = load_corpus([tmp_path])
    assert skipped == []
    [doc] = documents
    assert (doc.doc_id, doc.title, doc.source) == ("batchnorm-notes", "Batch normalization", "https://example.org/bn")
    assert doc.metadata == {"session": 5, "date": "2024-12-07", "file": str(tmp_path / "bn.md")}
    assert not doc.text.startswith("---")
    assert section_titles(doc) == ["Batch normalization", "Why it helps", "Placement"]
    assert "# a comment, not a heading" in doc.section_text("Why it helps")
    assert doc.section_text("Placement").startswith("### Placement\nBefore the activation.")
    assert doc.section_text("Placement").endswith("Still inside Placement.")
    assert_sections_consistent(doc)


def test_markdown_without_front_matter_gets_ids_from_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "Week 1").mkdir()
    (tmp_path / "Week 1" / "Intro Notes.md").write_text("Text before headings.\n\n# Kernels\n3x3 kernels.\n")
    (tmp_path / "Week 2").mkdir()
    (tmp_path / "Week 2" / "intro-notes.md").write_text("Just one paragraph about pooling.\n")
    documents, skipped = load_corpus([tmp_path])
    assert skipped == []
    assert [d.doc_id for d in documents] == ["week-1/intro-notes", "week-2/intro-notes"]
    first, second = documents
    assert first.title == "Kernels"
    assert section_titles(first) == ["", "Kernels"]
    assert first.section_text("") == "Text before headings."
    assert second.title == "intro notes"
    assert section_titles(second) == [""]
    assert second.source == str(tmp_path / "Week 2" / "intro-notes.md")
    for doc in documents:
        assert_sections_consistent(doc)


def test_plain_text_isolated_short_lines_become_sections(tmp_path: Path) -> None:
    (tmp_path / "dropout.txt").write_text(
        "Regularization notes\n\nDropout\n\nRandomly zeroes activations during training.\n"
        "Typical rate: 0.2 to 0.5.\n\nWeight decay\n\nAdds an L2 penalty on the weights.\n"
    )
    (tmp_path / "flat.txt").write_text("One paragraph only, no headings at all.\nA second line.\n")
    documents, skipped = load_corpus([tmp_path])
    assert skipped == []
    docs = by_id(documents)
    notes = docs["dropout"]
    assert notes.title == "Regularization notes"
    assert section_titles(notes) == ["Regularization notes", "Dropout", "Weight decay"]
    assert "Typical rate: 0.2 to 0.5." in notes.section_text("Dropout")
    assert notes.section_text("Weight decay").endswith("Adds an L2 penalty on the weights.")
    assert section_titles(docs["flat"]) == [""]
    for doc in documents:
        assert_sections_consistent(doc)


def test_html_drops_scripts_styles_and_navigation(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<html><head><title>Pooling explained</title><style>p {color: red}</style></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/blog'>Blog</a></nav>"
        "<script>var tracker = 1;</script>"
        "<p>Pooling reduces the <b>spatial</b> size.</p>"
        "<h2>Max pooling</h2><p>Takes the maximum of each window.</p>"
        "<ul><li>2x2 windows</li><li>stride 2</li></ul>"
        "<h3>Average pooling</h3><div>Takes the mean.</div>"
        "</body></html>",
        encoding="utf-8",
    )
    documents, skipped = load_corpus([tmp_path / "page.html"])
    assert skipped == []
    [doc] = documents
    assert (doc.doc_id, doc.title) == ("page", "Pooling explained")
    assert "tracker" not in doc.text and "color" not in doc.text and "Home" not in doc.text
    assert "Pooling reduces the spatial size." in doc.text
    assert section_titles(doc) == ["", "Max pooling", "Average pooling"]
    assert doc.section_text("Max pooling") == ("Max pooling\nTakes the maximum of each window.\n"
                                               "- 2x2 windows\n- stride 2")
    assert doc.section_text("Average pooling") == "Average pooling\nTakes the mean."
    assert_sections_consistent(doc)


def test_pdf_one_section_per_page(tmp_path: Path) -> None:
    (tmp_path / "slides.pdf").write_bytes(make_pdf(["Receptive fields grow with depth", "Dilated kernels widen them"]))
    documents, skipped = load_corpus([tmp_path])
    assert skipped == []
    [doc] = documents
    assert doc.doc_id == "slides"
    assert section_titles(doc) == ["page 1", "page 2"]
    assert "Receptive fields grow with depth" in doc.section_text("page 1")
    assert "Dilated kernels widen them" in doc.section_text("page 2")
    assert_sections_consistent(doc)


def test_csv_blog_export_with_page_chrome(tmp_path: Path) -> None:
    (tmp_path / "blog.csv").write_text(
        "blog_dataset / blog_dataset.csv\nsomeone's picture\nUpload blog_dataset.csv\n07f437d verified\n"
        "source,full_text,title\n"
        'https://example.org/vgg,"VGG\nStacks of 3x3 convolutions, ""very deep"".",VGG explained\n'
        'https://example.org/alexnet,"AlexNet won ILSVRC 2012.\n\nReLU\n\nFaster than tanh.",AlexNet explained\n',
        encoding="utf-8",
    )
    documents, skipped = load_corpus([tmp_path])
    assert skipped == []
    assert [(d.doc_id, d.title, d.source) for d in documents] == [
        ("blog/vgg-explained", "VGG explained", "https://example.org/vgg"),
        ("blog/alexnet-explained", "AlexNet explained", "https://example.org/alexnet"),
    ]
    assert documents[0].text == 'VGG\nStacks of 3x3 convolutions, "very deep".'
    assert "blog_dataset" not in documents[0].text
    assert section_titles(documents[1]) == ["", "ReLU"]
    for doc in documents:
        assert_sections_consistent(doc)


# ----------------------------------------------------------------------------------------------
# Skips and errors
# ----------------------------------------------------------------------------------------------


def test_bad_files_are_skipped_by_name_and_good_ones_kept(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("# Momentum\nSmooths the updates.\n")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "empty.md").write_text("  \n\n")
    (tmp_path / "only-front-matter.md").write_text("---\ntitle: Nothing here\n---\n\n")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 notes".encode("latin-1"))
    (tmp_path / "broken-link.md").symlink_to(tmp_path / "missing-target.md")
    (tmp_path / "bad-yaml.md").write_text("---\ntitle: [unclosed\n---\nBody.\n")
    (tmp_path / "model.ckpt").write_bytes(b"weights")
    documents, skipped = load_corpus([tmp_path])

    assert [d.doc_id for d in documents] == ["good"]
    expected = {
        "binary.txt": "binary file",
        "empty.md": "empty file",
        "only-front-matter.md": "empty file",
        "latin1.txt": "not UTF-8",
        "broken-link.md": "unreadable",
        "bad-yaml.md": "invalid YAML front matter",
        "model.ckpt": "unsupported file type '.ckpt'",
    }
    assert len(skipped) == len(expected), skipped
    for name, reason in expected.items():
        [message] = [m for m in skipped if str(tmp_path / name) in m]
        assert reason in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_file_without_read_permission_is_skipped(tmp_path: Path) -> None:
    locked = tmp_path / "locked.md"
    locked.write_text("# Secret\n")
    locked.chmod(0)
    try:
        documents, skipped = load_corpus([tmp_path])
    finally:
        locked.chmod(0o644)
    assert documents == []
    assert len(skipped) == 1 and "locked.md" in skipped[0] and "unreadable" in skipped[0]


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_file_failing_to_read_is_skipped(tmp_path: Path) -> None:
    """/proc/self/mem cannot be read from offset 0 (even by root): a real read error. (Inside a corpus folder
    such a link leads out of it and is skipped before it is read, so the file is given directly.)"""
    (tmp_path / "memory.md").symlink_to("/proc/self/mem")
    documents, skipped = load_corpus([tmp_path / "memory.md"])
    assert documents == []
    assert len(skipped) == 1 and "memory.md" in skipped[0] and "unreadable" in skipped[0]


def test_missing_path_raises_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-notes"
    with pytest.raises(CoursemateError, match="no-such-notes"):
        load_corpus([tmp_path, missing])


def test_loading_is_deterministic_and_ids_unique(tmp_path: Path) -> None:
    for folder in ("b", "a"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.md").write_text("---\ndoc_id: same\n---\nText of " + folder + ".\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "cache.md").write_text("ignored\n")
    first, _ = load_corpus([tmp_path, tmp_path / "a" / "same.md"])  # the second path repeats a file
    second, _ = load_corpus([tmp_path])
    assert [(d.doc_id, d.text) for d in first] == [("same", "Text of a."), ("same-2", "Text of b.")]
    assert [(d.doc_id, d.text) for d in second] == [(d.doc_id, d.text) for d in first]


# ----------------------------------------------------------------------------------------------
# The shipped corpus
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> dict[str, Document]:
    documents, skipped = load_corpus([SHIPPED_NOTES])
    assert skipped == []
    return by_id(documents)


def test_shipped_corpus_has_the_expected_documents(shipped: dict[str, Document]) -> None:
    blogs = [d for d in shipped.values() if d.doc_id.startswith("blog-")]
    assert len(blogs) == 16
    assert all(d.source.startswith("https://nepalprabin.github.io/posts/") for d in blogs)
    assert {"blog-googlenet", "blog-dcgan", "blog-simclr", "blog-smolagents-quiz"} <= set(shipped)

    sessions = sorted((d.metadata["session"], d.title) for d in shipped.values() if "session" in d.metadata)
    assert [number for number, _ in sessions] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 11]
    assert ("Session 3", "backpropagation & architectural basics") in [tuple(t.split(" - ", 1)) for _, t in sessions]
    assert "Session 1.5 - git & python 101" in section_titles(shipped["session-01-neural-architecture"])

    posts = {d.title: d.metadata.get("date") for d in shipped.values() if d.doc_id.startswith("post-")}
    assert posts == {
        "LSTM One Pager": "2023-03-05",
        "Day #172 - CNN - One Pager, Notes and Best Practices": "2018-12-24",
        "Day #170 - RNN": "2018-12-22",
        "What is ResNet": "2024-12-07",
        "What is MobileNet": "2024-12-07",
        "What is BERT": "2024-12-07",
        "What is RELU": "2024-12-07",
        "Contrastive Loss": "2024-12-01",
    }
    assert shipped["notes-neural-networks"].title == "Neural Networks"
    assert len(shipped) == 16 + 13 + 8 + 1


def test_shipped_documents_are_well_formed(shipped: dict[str, Document]) -> None:
    for doc in shipped.values():
        assert doc.title.strip() and doc.source.strip(), doc.doc_id
        assert_sections_consistent(doc)
        assert "Showing posts with label" not in doc.text
        assert "•" not in doc.text
        assert "[latexpage]" not in doc.text
    headings = section_titles(shipped["post-what-is-resnet"])
    assert headings[:2] == ["What is ResNet", "Key Concepts in ResNet"]
    assert "Variants of ResNet" in headings
    assert "Dataset Details" in section_titles(shipped["blog-dcgan"])
    assert "Dropout" in section_titles(shipped["notes-neural-networks"])


def test_shipped_documents_hold_key_facts(shipped: dict[str, Document]) -> None:
    def text(doc_id: str) -> str:
        return shipped[doc_id].text.lower()

    assert "lsun" in shipped["blog-dcgan"].section_text("Dataset Details").lower()
    lstm = shipped["post-lstm-one-pager"].section_text("LSTM / GRU").lower()
    assert "three gates" in lstm and "forget" in lstm
    assert "l1 & l2 regularization" in text("notes-neural-networks")
    assert "lasso" in shipped["notes-neural-networks"].section_text("L1 & L2 Regularization").lower()
    assert "inception module" in text("blog-googlenet")
    assert "residual" in text("post-what-is-resnet") and "skip connection" in text("post-what-is-resnet")
    assert "receptive field" in text("session-01-neural-architecture")
    assert "batch normalization" in text("session-05-batch-normalization-regularization")
    assert "gradcam" in text("session-07-advanced-training-concepts")
    assert "anchor boxes" in text("session-10-object-localisation-part-1-yolo")
    assert "bert" in text("session-11-dawn-of-transformers-part-iii")
    assert "bm25" in text("blog-augmented-llms")
    assert "edit distance" in text("blog-autocorrect-edit-distance")


@pytest.mark.slow  # two `coursemate index` processes (in process: test_bad_input's index cases)
def test_a_corpus_without_chunks_is_one_clear_error_and_keeps_the_old_index(tmp_path):
    """Headings only, a binary .txt, an empty .md and a broken .pdf: exit 2, one line, previous index intact."""
    import subprocess
    import sys

    good = tmp_path / "good"
    good.mkdir()
    (good / "a.md").write_text("# Notes\n\nDropout randomly zeroes activations during training.\n")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.md").write_text("# Only a heading\n")
    (bad / "b.txt").write_bytes(bytes(range(256)))
    (bad / "c.md").write_text("")
    (bad / "d.pdf").write_bytes(b"%PDF-1.4 broken")
    home = tmp_path / "home"

    def index(folder):
        return subprocess.run([sys.executable, "-m", "coursemate.cli", "--home", str(home), "index", str(folder)],
                              capture_output=True, text=True, timeout=600)

    assert index(good).returncode == 0
    manifest = (home / "index" / "manifest.json").read_text()
    failed = index(bad)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    errors = [line for line in failed.stderr.splitlines() if line.startswith("coursemate: error:")]
    assert len(errors) == 1 and "nothing to index" in errors[0]
    assert "skipped skipped" not in failed.stderr
    assert (home / "index" / "manifest.json").read_text() == manifest
