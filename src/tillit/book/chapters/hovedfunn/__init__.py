"""Kapittel 4 Hovedfunn etter kartleggingsarbeid: the findings per goal (4.1, 4.2.1–4.2.5).

One module per part of the chapter; the notebook ``04_hovedfunn`` calls them and narrates.

- :mod:`common`: numbers that may be suppressed (:class:`Say`), rankings (:class:`Ranking`),
  the chapter's block of params/report.yml;
- :mod:`overview`: 4.1, the findings per goal;
- :mod:`factors`: the thirteen factors (4.2.1.2–3, 4.2.4.2; Figur 7 and 8);
- :mod:`services`: goal 2, Erfaringsbasen and the grant scheme;
- :mod:`cooperation`: goal 3, leaders, tillitsvalgte and verneombud;
- :mod:`documents`: goal 4, the MD-brev;
- :mod:`steering`: goal 4, views on the steering, goal types, competition, results, kommune/stat;
- :mod:`trust`: 4.2.4.8 and goal 5.
"""
from tillit.book.chapters.hovedfunn import (common, cooperation, documents, factors, overview, services,  # noqa: F401
                                            steering, trust)
from tillit.book.chapters.hovedfunn.common import Ranking, Say, block, bullets  # noqa: F401
from tillit.book.chapters.hovedfunn.overview import findings_overview  # noqa: F401
from tillit.book.chapters.hovedfunn.trust import trust_summary  # noqa: F401  (chapter 1 calls it)
