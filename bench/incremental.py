"""Adding one 20-page PDF to the shipped notes: the incremental update against a full rebuild, side by side.

    python bench/incremental.py [--pages 20] [--home /tmp/coursemate-bench-incremental] [--json OUT]

In a scratch home: (1) the shipped notes are indexed in full; (2) a generated lecture PDF (``--pages`` pages of
distinct prose, written with matplotlib's PdfPages) is added with ``coursemate.retrieval.library.add_notes``, the
path of ``coursemate notes add`` and the Notes tab; (3) the same corpus is rebuilt in full (``rebuild=True``).
Each row gives wall and CPU seconds, and how many passages and sentences were embedded. The embedding model is
loaded before the first row, so no row pays for loading it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from coursemate.config import DEFAULT_CORPUS_DIR, Settings
from coursemate.io import atomic_write_json
from coursemate.retrieval import NotesIndex
from coursemate.retrieval.embeddings import embed, embedder_for
from coursemate.retrieval.library import add_notes

TOPICS = ["capsule network", "spiking neuron", "graph convolution", "neural ODE", "hypernetwork", "mixture of experts",
          "state space model", "equivariant layer", "energy-based model", "normalizing flow", "neural radiance field",
          "kernel machine", "sparse autoencoder", "reservoir computer", "Hopfield memory", "liquid time constant cell",
          "quantized network", "pruned network", "distilled student", "meta-learner"]
VERBS = ["routes", "stores", "compresses", "predicts", "aligns", "propagates", "regularizes", "samples", "encodes",
         "normalizes", "amplifies", "filters"]
OBJECTS = ["activations", "gradients", "pose vectors", "attention maps", "hidden states", "weights", "feature maps",
           "latent codes", "spike trains", "edge messages"]
WHEN = ["the batch is small", "training diverges", "the input is noisy", "the learning rate decays",
        "labels are scarce", "the graph is sparse", "memory is limited", "the sequence is long"]


def lecture_lines(page: int, rng: random.Random, lines: int = 24) -> list[str]:
    """Distinct sentences of one page (the page number and the topic keep them apart from every other page)."""
    topic = TOPICS[page % len(TOPICS)]
    out = [f"Lecture 13, part {page}: the {topic}"]
    for n in range(lines):
        out.append(f"In step {n + 1} the {topic} {rng.choice(VERBS)} its {rng.choice(OBJECTS)} when "
                   f"{rng.choice(WHEN)}, which costs {rng.randint(2, 99)} units on page {page}.")
    return out


def write_lecture_pdf(path: Path, pages: int, seed: int = 0) -> None:
    """A text PDF of ``pages`` pages (TrueType text, so pypdf extracts it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    matplotlib.rcParams["pdf.fonttype"] = 42
    rng = random.Random(seed)
    with PdfPages(path) as pdf:
        for page in range(1, pages + 1):
            figure = plt.figure(figsize=(8.27, 11.69))
            for row, line in enumerate(lecture_lines(page, rng)):
                figure.text(0.05, 0.95 - row * 0.037, line, fontsize=8 if row else 12, family="DejaVu Sans")
            pdf.savefig(figure)
            plt.close(figure)
        pdf.infodict()["Title"] = "Lecture 13: beyond the course"


def timed(step) -> tuple[NotesIndex, float, float]:
    started, started_cpu = time.perf_counter(), time.process_time()
    index = step()
    return index, time.perf_counter() - started, time.process_time() - started_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--home", type=Path, default=None, help="scratch home (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="coursemate-bench-incremental-"))
    home.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(home / "index", ignore_errors=True)
    shutil.rmtree(home / "notes", ignore_errors=True)
    (home / "corpus.json").unlink(missing_ok=True)
    settings = Settings.load(home=home, corpus_paths=[DEFAULT_CORPUS_DIR])
    pdf = home / "lecture-13.pdf"
    write_lecture_pdf(pdf, args.pages)
    embed(embedder_for(settings), ["warm up"])

    rows = []
    shipped, wall, cpu = timed(lambda: NotesIndex.load_or_build(settings, rebuild=True, progress=False))
    rows.append(("full build: shipped notes", shipped, wall, cpu))
    added, wall, cpu = timed(lambda: add_notes(settings, [pdf]))
    rows.append((f"incremental: add a {args.pages}-page PDF", added, wall, cpu))
    full, wall, cpu = timed(lambda: NotesIndex.load_or_build(added.settings, rebuild=True, progress=False))
    rows.append(("full rebuild: shipped notes + the PDF", full, wall, cpu))

    load = os.getloadavg()
    print(f"# Adding a {args.pages}-page PDF to the shipped notes ({os.cpu_count()} CPUs, load average "
          f"{load[0]:.1f} / {load[1]:.1f}; embedding backend {settings.embedding_backend})\n")
    print("| operation | documents | passages | embedded passages | embedded sentences | wall s | CPU s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, index, wall, cpu in rows:
        m = index.manifest
        print(f"| {name} | {m['documents']} | {m['chunks']} | {m['embedded']['passages']} | "
              f"{m['embedded']['sentences']} | {wall:.1f} | {cpu:.1f} |")
    speedup = rows[2][2] / rows[1][2]
    print(f"\nincremental update {speedup:.1f}x faster than the full rebuild (wall), "
          f"{rows[2][3] / rows[1][3]:.1f}x (CPU)")
    if args.json:
        atomic_write_json(args.json, [{"operation": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                                       **{k: index.manifest[k] for k in ("documents", "chunks", "embedded")}}
                                      for name, index, wall, cpu in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
