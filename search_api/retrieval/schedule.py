"""Where and in which order the legs of one search run, and how long they may take.

The keyword leg waits on Elasticsearch in a pool thread while the query is encoded in the encode
pool and the request thread then searches FAISS (or Elasticsearch kNN), so a hybrid query costs
about max(keyword, encode + ANN), not the sum. A profile is built first on the keyword leg's pool
thread (the keyword boosts need it), so its reads overlap the encoding too; the semantic leg
takes it once the query vector is ready. Both legs read the same concrete index version (the one
the vector replica loaded), so their ids always agree even while an alias swap is in progress.

While another leg can answer, a leg has a budget from the start of the search
(`keyword_budget_ms`, which the profile shares, and `semantic_budget_ms`; see `budget`): the
request thread waits for it only until its deadline, then answers without it (`failed: timeout`,
`meta.degraded`). The encode runs in a pool rather than on the request thread for that reason: a
model that stalls cannot hold the answer, and its vector still lands in the query cache for the
next request. A leg that is the only one able to answer (keyword mode, a query the model cannot
read, no snapshot; semantic mode) is not cut: a late answer beats a 503.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import Future, InvalidStateError
from dataclasses import replace

import numpy as np

from indexer.index_format import IndexerError
from search_api.core.metrics import timed
from search_api.personal.personalize import keyword_functions
from search_api.personal.profile import Profile
from search_api.retrieval import keyword, semantic
from search_api.retrieval.budget import Deadline, LegTimeout, wait
from search_api.retrieval.legs import LegResult, LegState, LegStatus, Retrieved, in_leg_order, usable
from search_api.retrieval.params import Mode, SearchRequest
from search_api.retrieval.replica import Loaded
from search_api.retrieval.runtime import Runtime
from search_api.synonyms.expansion import NOTHING, Expansion
from search_api.understand.boosts import boost_clauses, demotion
from search_api.understand.recognise import Understanding

ProfileBox = Future[tuple[Profile | None, LegStatus | None]]
"""The profile and its `personal` status, handed from the pool thread to the request thread."""

KEYWORD_MODES = (Mode.HYBRID, Mode.KEYWORD)
SEMANTIC_MODES = (Mode.HYBRID, Mode.SEMANTIC)


def wants_profile(req: SearchRequest) -> bool:
    """Whether the request asks for personalisation (inline history, even empty, or a user id)."""
    return req.history is not None or bool(req.user_id)


def build_profile(rt: Runtime, req: SearchRequest) -> tuple[Profile | None, LegStatus | None]:
    """The request's profile and the `personal` leg status (None, None: not asked for)."""
    if not wants_profile(req):
        return None, None
    try:
        with timed("personal"):
            if req.history is not None:
                profile = rt.profiles.from_history(req.history)
            else:
                profile = rt.profiles.for_user(req.user_id or "")
    except IndexerError as exc:  # personalisation is a bonus: search on without it
        return None, LegStatus.failure(str(exc))
    return profile, LegStatus(LegState.OK if not profile.empty else LegState.NO_HISTORY)


def keyword_depth(rt: Runtime, req: SearchRequest, personal: Profile | None) -> int:
    """Candidates the keyword leg fetches: the same for every page (`paging` orders the rest).

    Enough for the profile leg's gate too.
    """
    settings = rt.settings
    size = settings.keyword_candidates
    if personal is not None and personal.vector is not None and req.mode == Mode.HYBRID \
            and not rt.embedder.readable(req.q):
        size = max(size, settings.personal_gate_depth)  # the profile leg picks from these
    return size


def hand_over(box: ProfileBox, outcome: tuple[Profile | None, LegStatus | None] | None = None,
              error: BaseException | None = None) -> None:
    """Settle the profile box, unless the other thread already did (its timeout then stands)."""
    try:
        if error is not None:
            box.set_exception(error)
        else:
            box.set_result(outcome)  # type: ignore[arg-type]
    except InvalidStateError:
        pass


def personal_then_keyword(rt: Runtime, req: SearchRequest, index: str, profile_box: ProfileBox,
                          deadline: Deadline, synonyms: Expansion = NOTHING,
                          understood: Understanding | None = None) -> LegResult | None:
    """Build the profile (if asked for), hand it over, then run the keyword leg boosted by it (and `synonyms`).

    With an `understood` query the leg searches its words (a price expression taken out), adds
    its boosts and demotes what it excludes.
    One pool thread does both in order, so the profile's Elasticsearch read overlaps the query
    encoding instead of delaying it. None: the mode has no keyword leg. Past the deadline the
    keyword leg is not started (`LegTimeout`), and its Elasticsearch call gets only the time left.
    """
    if not profile_box.done():
        try:
            hand_over(profile_box, build_profile(rt, req))
        except BaseException as exc:
            hand_over(profile_box, error=exc)
            raise
    if req.mode not in KEYWORD_MODES:
        return None
    personal = usable(profile_box.result()[0])  # what the request thread went on with
    functions = keyword_functions(personal, rt.settings) if personal is not None else None
    deadline.check()
    es = rt.es.options(request_timeout=deadline.call_timeout()) if deadline.bounded else rt.es
    searched = understood.text if understood is not None and understood.text != req.q else None
    try:
        with timed("keyword"):
            leg = keyword.search(es, index, replace(req, q=searched) if searched else req,
                                 size=keyword_depth(rt, req, personal), functions=functions,
                                 max_boost=rt.settings.personal_max_boost, relax_below=rt.settings.relax_below,
                                 typos=rt.settings.typo_tolerance, synonyms=synonyms.variants,
                                 boosts=boost_clauses(understood) if understood is not None else (),
                                 demote=demotion(understood) if understood is not None else None)
            return replace(leg, searched=searched) if searched else leg
    except IndexerError as exc:
        if deadline.expired:  # the client gave up at the deadline it was given
            raise LegTimeout from exc
        raise


def encode_query(rt: Runtime, req: SearchRequest, live: Loaded, deadline: Deadline,
                 text: str | None = None) -> tuple[np.ndarray | None, LegStatus | None]:
    """The vector of `text` (understood: no price, no exclusion) or the query, and the leg's status so far.

    None: no semantic leg. Encoded in the encode pool and waited for until `deadline` at most.
    """
    if req.mode not in SEMANTIC_MODES:
        return None, None
    if live.vectors is None:
        return None, LegStatus.failure(str(live.error))
    built_by = live.built_by  # None: kNN (a dimension mismatch fails the leg there)
    if built_by not in (None, rt.embedder.model_id):  # another space (and size): cosines would be meaningless
        return None, LegStatus.failure(f"vectors are {built_by}'s, the query model is {rt.embedder.model_id}: rebuild")
    try:
        return wait(rt.encode_pool.submit(semantic.encode, rt.embedder, text or req.q), deadline)
    except LegTimeout:
        return None, LegStatus.timeout()
    except Exception as exc:  # a broken model must not take keyword search down
        return None, LegStatus.failure(type(exc).__name__)


def await_profile(profile_box: ProfileBox, deadline: Deadline) -> tuple[Profile | None, LegStatus | None]:
    """The profile and its status, or none (`personal` timed out) once the keyword deadline passes."""
    try:
        return profile_box.result(timeout=deadline.remaining() if deadline.bounded else None)
    except TimeoutError:
        if not profile_box.done():
            hand_over(profile_box, (None, LegStatus.timeout()))
        return profile_box.result()  # the pool thread's, had it just finished


def semantic_depth(rt: Runtime, req: SearchRequest) -> int:
    """Semantic candidates: the same for every page of a hybrid answer, whose eligible set must not move.

    A semantic-only answer's reach the page (its order is a FAISS top-k prefix).
    """
    depth = rt.settings.semantic_candidates
    return depth if req.mode == Mode.HYBRID else max(depth, req.offset + req.size)


def semantic_leg(rt: Runtime, req: SearchRequest, vectors: semantic.Vectors, query_vector: np.ndarray,
                 taste: np.ndarray | None, deadline: Deadline) -> tuple[LegResult | None, LegStatus]:
    """The semantic leg (kNN: within the leg's time left), bent by the shopper's taste vector if any."""
    settings = rt.settings
    try:
        with timed("semantic_search"):
            return semantic.search(semantic.within(vectors, deadline), query_vector, size=semantic_depth(rt, req),
                                   profile=taste, alpha=settings.personal_alpha,
                                   gate_depth=settings.personal_gate_depth, gate_ratio=settings.personal_gate_ratio,
                                   floor=settings.semantic_floor)
    except Exception as exc:  # a broken replica or kNN call must not take keyword search down
        late = isinstance(exc, IndexerError) and deadline.expired  # kNN given only the time left
        return None, LegStatus.timeout() if late else LegStatus.failure(type(exc).__name__)


def keyword_outcome(future: Future[LegResult | None], personal: Profile | None,
                    deadline: Deadline) -> tuple[LegResult | None, LegStatus | None]:
    """The keyword leg's result and status, waited for until `deadline` (None, None: no leg)."""
    try:
        leg = wait(future, deadline)
    except LegTimeout:
        return None, LegStatus.timeout()
    except IndexerError as exc:
        return None, LegStatus.failure(str(exc))
    if leg is None:  # the pool thread only built the profile (semantic mode)
        return None, None
    return leg, LegStatus(LegState.OK if personal is None else LegState.PERSONALISED)


def respelled_semantic(rt: Runtime, req: SearchRequest, live: Loaded, taste: np.ndarray | None,
                       results: dict[str, LegResult], deadline: Deadline) -> None:
    """Once the keyword leg corrected a misspelled query, the semantic leg searches the corrected one.

    A misspelled word throws a sentence embedding far off (ESCI dev typo'd queries: semantic
    nDCG@10 0.69 → 0.32), and the correction is only known when the keyword leg answers, so only
    those queries pay a second encode; the leg keeps its first answer if this one fails or is late.
    """
    keyword_leg, first = results.get("keyword"), results.get("semantic")
    if keyword_leg is None or keyword_leg.corrected is None or first is None or live.vectors is None:
        return
    vector, status = encode_query(rt, replace(req, q=keyword_leg.corrected), live, deadline)
    if vector is not None:
        leg, _ = semantic_leg(rt, req, live.vectors, vector, taste, deadline)
        if leg is not None:
            results["semantic"] = leg


def profile_leg(rt: Runtime, req: SearchRequest, live: Loaded, taste: np.ndarray | None,
                statuses: Mapping[str, LegStatus], results: Mapping[str, LegResult]) -> LegResult | None:
    """The "items like yours" leg over the keyword leg's candidates, or None when it does not apply.

    It stands in for a hybrid search's semantic leg when the model cannot read the query (skipped)
    but the shopper's taste vector can still say which matches look like what they viewed.
    """
    semantic_status = statuses.get("semantic")
    if (taste is None or live.vectors is None or req.mode != Mode.HYBRID or "semantic" in results
            or semantic_status is None or not semantic_status.skipped or "keyword" not in results):
        return None
    with timed("profile"):
        return semantic.profile_leg(live.vectors, results["keyword"].ids, taste,
                                    gate_ratio=rt.settings.personal_gate_ratio)


def deadlines(rt: Runtime, req: SearchRequest, live: Loaded) -> tuple[Deadline, Deadline]:
    """The keyword and semantic legs' deadlines: their budgets when both legs can answer, else none.

    The budgets' clock starts after `rt.embedder` was asked what it reads, which loads the model
    on a process's first search (seconds that are no leg's fault).
    """
    both = req.mode == Mode.HYBRID and live.vectors is not None and bool(rt.embedder.readable(req.q))
    if not both:
        return Deadline.never(), Deadline.never()
    started = time.monotonic()
    return (Deadline.after_ms(rt.settings.keyword_budget_ms, start=started),
            Deadline.after_ms(rt.settings.semantic_budget_ms, start=started))


def understanding(rt: Runtime, req: SearchRequest, index: str) -> Understanding | None:
    """What the query says besides its words (the live `index`'s vocabulary); None: off, or no keyword leg."""
    wanted = req.understand if req.understand is not None else rt.settings.understand
    if not wanted or req.mode not in KEYWORD_MODES:
        return None
    return rt.understanding.understand(req.q, index)


def run_legs(rt: Runtime, req: SearchRequest, live: Loaded) -> Retrieved:
    """Run the legs the request's mode asks for, concurrently as the module docstring says.

    Engine errors and timeouts become `failed` statuses; anything else a pool thread raised is
    re-raised.
    """
    keyword_deadline, semantic_deadline = deadlines(rt, req, live)
    profile_box: ProfileBox = Future()
    if not wants_profile(req):
        profile_box.set_result((None, None))
    future = None
    # the live version names the brand-keyword aliases in force; microseconds unless something is due
    understood = understanding(rt, req, live.index)
    words = understood.text if understood is not None else req.q  # a price expression has no synonyms
    synonyms = rt.synonyms.expand(words, live.index) if req.mode in KEYWORD_MODES else NOTHING
    if wants_profile(req) or req.mode in KEYWORD_MODES:
        future = rt.pool.submit(personal_then_keyword, rt, req, live.index, profile_box, keyword_deadline, synonyms,
                                understood)
    statuses: dict[str, LegStatus] = {}
    results: dict[str, LegResult] = {}  # insertion order semantic, keyword, profile: fusion's tie order
    query_vector, encoded = encode_query(rt, req, live, semantic_deadline, words)  # while the pool thread works
    profile, personal_status = await_profile(profile_box, keyword_deadline)
    personal = usable(profile)
    taste = personal.vector if personal is not None else None
    if personal_status is not None:
        statuses["personal"] = personal_status
    if encoded is not None:
        statuses["semantic"] = encoded
    if query_vector is not None and live.vectors is not None:
        leg, statuses["semantic"] = semantic_leg(rt, req, live.vectors, query_vector, taste, semantic_deadline)
        if leg is not None:
            results["semantic"] = leg
    if future is not None and req.mode in KEYWORD_MODES:  # else the thread only built the profile
        leg, status = keyword_outcome(future, personal, keyword_deadline)
        if status is not None:
            statuses["keyword"] = status
        if leg is not None:
            results["keyword"] = leg
    respelled_semantic(rt, req, live, taste, results, semantic_deadline)
    leg = profile_leg(rt, req, live, taste, statuses, results)
    if leg is not None:
        results["profile"], statuses["profile"] = leg, LegStatus(LegState.OK)
    return Retrieved(in_leg_order(statuses), results, profile, synonyms, understood, query_vector)
