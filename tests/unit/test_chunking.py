"""Chunking: canonical text, cleaning, and the coverage/offset/size/page guarantees."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import pytest

from docflow.core.errors import PermanentError
from tasks.steps.chunking import Chunk, chunk_elements, clean_text, document_text

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class El:
    """Same shape as tasks.steps.extract.Element (chunking only needs the attributes)."""

    text: str
    kind: str
    page: int


WORDS = [
    "invoice",
    "contract",
    "payment",
    "shipment",
    "warehouse",
    "logistics",
    "quarterly",
    "revenue",
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "international",
    "agreement",
    "Rotterdam",
    "Acme",
    "delivery",
    "pallet",
    "customs",
]


def random_text(rng: random.Random, max_sentences: int = 12) -> str:
    sentences = []
    for _ in range(rng.randint(1, max_sentences)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 30))]
        if rng.random() < 0.05:
            words.append("x" * rng.randint(50, 400))  # a "word" that may exceed max_chars
        sentence = " ".join(words)
        sentences.append(sentence[0].upper() + sentence[1:] + rng.choice([".", "!", "?", ""]))
    sep = rng.choice([" ", " ", "\n", "  ", "\t"])
    return sep.join(sentences)


def random_elements(rng: random.Random) -> list[El]:
    kinds = ["Title", "NarrativeText", "NarrativeText", "ListItem", "Table", "EmailHeader"]
    page = 1
    elements = []
    for _ in range(rng.randint(0, 25)):
        page += rng.random() < 0.3
        text = "" if rng.random() < 0.05 else random_text(rng)
        elements.append(El(text, rng.choice(kinds), page))
    return elements


def assert_chunk_invariants(elements: list[El], text: str, chunks: list[Chunk], max_chars: int) -> None:
    assert text == document_text(elements)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    covered = bytearray(len(text))
    for c in chunks:
        assert c.text == text[c.char_start : c.char_end]
        assert 0 < len(c.text) <= max_chars
        assert 1 <= c.page_start <= c.page_end
        covered[c.char_start : c.char_end] = b"\x01" * len(c.text)
    assert all(covered), "some document character is in no chunk"
    assert [c.char_start for c in chunks] == sorted({c.char_start for c in chunks})
    # Pages are exactly those of the (cleaned, non-empty) elements each chunk touches.
    spans, offset = [], 0
    for e in elements:
        cleaned = clean_text(e.text)
        if cleaned:
            spans.append((offset, offset + len(cleaned), e.page))
            offset += len(cleaned) + 2
    for c in chunks:
        pages = [p for s, t, p in spans if s < c.char_end and c.char_start < t]
        if not pages:  # only whitespace between elements: it belongs to the one before
            assert c.text.isspace()
            pages = [next(p for s, _, p in reversed(spans) if s < c.char_start)]
        assert (c.page_start, c.page_end) == (min(pages), max(pages))


def assert_no_mid_word_cut(text: str, chunks: list[Chunk], max_chars: int) -> None:
    for c in chunks:
        for pos in (c.char_start, c.char_end):
            if 0 < pos < len(text) and not text[pos - 1].isspace() and not text[pos].isspace():
                # Only allowed inside a single word longer than the budget.
                start = pos
                while start > 0 and not text[start - 1].isspace():
                    start -= 1
                end = pos
                while end < len(text) and not text[end].isspace():
                    end += 1
                assert end - start > max_chars, f"cut inside {text[start:end]!r}"


# --- clean_text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("inter-\nnational trade", "international trade"),
        ("inter-  \n   national", "international"),
        ("Franco-\nGerman", "Franco-German"),  # capitalised continuation keeps its hyphen
        ("a  b   c", "a b c"),
        ("a\u00a0\u00a0b\u2009c", "a b c"),
        ("line one   \nline two\t\n", "line one\nline two"),
        ("nul\x00here\x07 bell", "nulhere bell"),
        ("keeps\ttabs\nand\nnewlines", "keeps\ttabs\nand\nnewlines"),
        ("cr\r\nlf\rmac", "cr\nlf\nmac"),
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),  # NFC
        ("e\x00\u0301", "\u00e9"),  # composes after the control char is gone
        ("para\n\n\n\n\nnext", "para\n\nnext"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("  \n  padded  \n ", "padded"),
        ("", ""),
    ],
)
def test_clean_text_table(raw: str, expected: str) -> None:
    # GIVEN raw extracted text WHEN cleaned THEN it has the documented normal form
    assert clean_text(raw) == expected


def test_clean_text_is_idempotent_on_random_noise() -> None:
    # GIVEN random strings full of the characters cleaning cares about
    rng = random.Random(1234)
    alphabet = "ab-Z \t\n\r\x00\x0c\u00a0\u00ade\u0301\u200b."
    for _ in range(2000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        # WHEN cleaned twice THEN the second pass changes nothing
        once = clean_text(raw)
        assert clean_text(once) == once
        assert "  " not in once and "\x00" not in once and "\r" not in once


def test_clean_text_rejects_non_string() -> None:
    # GIVEN an element whose text is not a string WHEN cleaned THEN it is bad input
    with pytest.raises(PermanentError):
        clean_text(None)  # type: ignore[arg-type]  # the wrong type on purpose


# --- document_text / trivial inputs ---------------------------------------------------


def test_document_text_joins_cleaned_non_empty_elements() -> None:
    # GIVEN elements, one blank
    elements = [El("Intro  ", "Title", 1), El(" \n ", "NarrativeText", 1), El("Body  text\nline 2", "NarrativeText", 2)]
    # WHEN the canonical text is built THEN blanks vanish and the rest is "\n\n"-joined
    assert document_text(elements) == "Intro\n\nBody text\nline 2"


def test_accepts_extract_element() -> None:
    # GIVEN elements of the extractor's own type (imported here so the rest of this file
    # does not depend on the extractor module)
    from tasks.steps.extract import Element

    elements = [Element("Title", "Title", 1), Element("Body text.", "NarrativeText", 2)]
    # WHEN chunked THEN it behaves exactly as for any object with text/kind/page
    assert chunk_elements(elements) == chunk_elements([El(e.text, e.kind, e.page) for e in elements])


@pytest.mark.parametrize("elements", [[], [El("", "Title", 1), El(" \x00 ", "NarrativeText", 2)]])
def test_empty_input_gives_empty_result(elements: list[El]) -> None:
    # GIVEN nothing with text WHEN chunked THEN there is no text and no chunk
    assert chunk_elements(elements) == ("", [])


def test_small_document_is_one_chunk() -> None:
    # GIVEN a short document over two pages
    elements = [El("Report", "Title", 1), El("Alpha beta.", "NarrativeText", 1), El("Gamma.", "ListItem", 2)]
    # WHEN chunked
    text, chunks = chunk_elements(elements)
    # THEN one chunk holds it all and spans both pages
    assert chunks == [Chunk(0, text, 1, 2, 0, len(text))]


@pytest.mark.parametrize("page", [0, -1, "1", None, True])
def test_invalid_page_is_bad_input(page: object) -> None:
    # GIVEN an element with a page that is not a 1-based int WHEN chunked THEN bad input
    with pytest.raises(PermanentError):
        chunk_elements([El("text", "NarrativeText", page)])  # type: ignore[arg-type]  # the wrong type on purpose


@pytest.mark.parametrize(
    "kwargs",
    [{"max_chars": 0}, {"max_chars": 100, "overlap_chars": 100}, {"overlap_chars": -1}, {"min_chars": -5}],
)
def test_invalid_parameters_raise(kwargs: dict[str, int]) -> None:
    # GIVEN nonsensical sizes WHEN chunking THEN the caller's mistake is reported
    with pytest.raises(ValueError):
        chunk_elements([El("text", "NarrativeText", 1)], **kwargs)


# --- structure --------------------------------------------------------------------------


def paragraph(n_sentences: int, tag: str) -> str:
    return " ".join(f"Sentence {i} of section {tag} talks about freight." for i in range(n_sentences))


def test_title_starts_a_new_chunk_without_overlap() -> None:
    # GIVEN two sections, each large enough to be non-trivial but fitting one chunk
    elements = [
        El("Section A", "Title", 1),
        El(paragraph(8, "A"), "NarrativeText", 1),
        El("Section B", "Title", 2),
        El(paragraph(8, "B"), "NarrativeText", 2),
    ]
    # WHEN chunked with room for both
    text, chunks = chunk_elements(elements, max_chars=1500, overlap_chars=200, min_chars=200)
    # THEN each section is its own chunk, the second begins at its title, and nothing of
    # section A is repeated in it
    assert len(chunks) == 2
    assert chunks[0].text.startswith("Section A") and "Section B" not in chunks[0].text
    assert chunks[1].text.startswith("Section B") and "section A" not in chunks[1].text
    assert chunks[1].char_start == text.index("Section B")
    assert (chunks[0].page_start, chunks[0].page_end, chunks[1].page_start, chunks[1].page_end) == (1, 1, 2, 2)


def test_title_after_trivial_chunk_is_packed_into_it() -> None:
    # GIVEN a title that follows only a short preamble (< min_chars)
    elements = [
        El("Memo", "Title", 1),
        El("Short note.", "NarrativeText", 1),
        El("Details", "Title", 1),
        El(paragraph(3, "D"), "NarrativeText", 1),
    ]
    # WHEN chunked
    text, chunks = chunk_elements(elements, min_chars=200)
    # THEN the short preamble is not left as a chunk of its own
    assert len(chunks) == 1 and chunks[0].text == text


def test_elements_are_packed_whole_while_they_fit() -> None:
    # GIVEN ten 100-char paragraphs and a 450-char budget
    body = [El(f"Para {i} ".ljust(99, "x") + ".", "NarrativeText", 1) for i in range(10)]
    # WHEN chunked without overlap
    text, chunks = chunk_elements(body, max_chars=450, overlap_chars=0)
    # THEN every chunk is a run of whole paragraphs (ends are paragraph ends or separators)
    paras = {e.text for e in body}
    for c in chunks:
        assert all(p in paras for p in c.text.strip().split("\n\n"))
    assert len(chunks) == 3  # 4 + 4 + 2 paragraphs (each 100 + 2 separator chars)


def test_long_element_is_split_at_sentence_boundaries_with_overlap() -> None:
    # GIVEN one element far longer than the budget
    elements = [El(paragraph(60, "L"), "NarrativeText", 3)]
    # WHEN chunked
    text, chunks = chunk_elements(elements, max_chars=500, overlap_chars=100)
    # THEN chunks start at sentence starts, end at sentence ends, and overlap by ~100 chars
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.startswith("Sentence ") and c.text.endswith(".")
        assert (c.page_start, c.page_end) == (3, 3)
    for a, b in itertools.pairwise(chunks):
        overlap = a.char_end - b.char_start
        assert 50 <= overlap <= 150
    assert_chunk_invariants(elements, text, chunks, 500)


def test_sentence_longer_than_budget_is_split_between_words() -> None:
    # GIVEN a single sentence with no punctuation, 10x the budget
    words = " ".join(f"word{i}" for i in range(400))
    # WHEN chunked
    text, chunks = chunk_elements([El(words, "NarrativeText", 1)], max_chars=300, overlap_chars=40)
    # THEN no cut falls inside a word
    assert len(chunks) > 1
    assert_no_mid_word_cut(text, chunks, 300)
    assert_chunk_invariants([El(words, "NarrativeText", 1)], text, chunks, 300)


def test_only_an_oversized_word_is_hard_split() -> None:
    # GIVEN a word longer than the budget between normal words
    elements = [El("start " + "y" * 1000 + " end", "NarrativeText", 1)]
    # WHEN chunked
    text, chunks = chunk_elements(elements, max_chars=300, overlap_chars=50)
    # THEN it is cut into budget-sized parts and everything is still covered
    assert_chunk_invariants(elements, text, chunks, 300)
    assert_no_mid_word_cut(text, chunks, 300)
    assert max(len(c.text) for c in chunks) == 300


def test_chunk_spanning_pages_reports_both() -> None:
    # GIVEN small elements on pages 1..3
    elements = [El(f"Line on page {p}.", "NarrativeText", p) for p in (1, 2, 3)]
    # WHEN chunked with a budget that fits two elements
    text, chunks = chunk_elements(elements, max_chars=40, overlap_chars=0)
    # THEN page spans follow the elements actually inside each chunk
    assert [(c.page_start, c.page_end) for c in chunks] == [(1, 2), (3, 3)]


def test_output_is_deterministic() -> None:
    # GIVEN the same random document twice WHEN chunked THEN the results are equal
    elements = random_elements(random.Random(99))
    assert chunk_elements(elements, max_chars=300) == chunk_elements(list(elements), max_chars=300)


# --- property-style ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_guarantees_hold_for_random_documents(seed: int) -> None:
    # GIVEN a random document and random (valid) sizes
    rng = random.Random(seed)
    elements = random_elements(rng)
    max_chars = rng.choice([20, 80, 200, 500, 1500])
    overlap_chars = rng.randint(0, max_chars // 2)
    min_chars = rng.choice([0, 50, 200])
    # WHEN chunked
    text, chunks = chunk_elements(elements, max_chars=max_chars, overlap_chars=overlap_chars, min_chars=min_chars)
    # THEN coverage, offsets, sizes, indexes, pages and word integrity all hold
    assert_chunk_invariants(elements, text, chunks, max_chars)
    assert_no_mid_word_cut(text, chunks, max_chars)
    assert bool(chunks) == bool(text)
    # AND no chunk begins with whitespace, so each chunk reads from a word start
    assert all(not c.text[0].isspace() for c in chunks)
