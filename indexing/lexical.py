"""Words for BM25, from code and prose alike.

Code spells one idea many ways (`enroll_students`, `enrollStudents`, `EnrollmentService`,
`/tracks/{id}/enroll`), and questions spell it in English ("enrolling students"). Identifiers are
split at underscores, case changes and digits, everything is lower-cased and stemmed, and English
stop words are dropped, so all of those meet on `enrol` + `student`. Letters followed by digits are
also kept together ("ec2", "oauth2"), whatever their case. Whole identifiers of several
parts are kept too, so an exact name in a question still ranks its definition first.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves s t d ll m o re ve y let lets get got
    also may might must shall us via per e g i.e eg ie etc self cls def return import from none true
    false pass elif else try except finally raise class const var function async await new null
    undefined this
    """.split()  # noqa: SIM905
)

_stemmer = Stemmer.Stemmer("english")

# Abbreviations common in code, mapped to the word a question would use, so `max_projects_per_org`
# meets "the maximum number of projects per organization".
ALIASES = {
    "org": "organization", "orgs": "organization", "admin": "administrator", "admins": "administrator",
    "max": "maximum", "min": "minimum", "config": "configuration", "cfg": "configuration",
    "conf": "configuration", "db": "database", "repo": "repository", "repos": "repository",
    "env": "environment", "perm": "permission", "perms": "permission", "msg": "message",
    "msgs": "message", "num": "number", "info": "information", "desc": "description",
    "param": "parameter", "params": "parameter", "doc": "document", "docs": "document",
    "dept": "department", "mgmt": "management", "mgr": "manager", "req": "request",
    "resp": "response", "usr": "user", "pwd": "password", "passwd": "password", "addr": "address",
    "qty": "quantity", "cnt": "count", "avg": "average", "calc": "calculate", "img": "image",
    "stats": "statistics", "util": "utility", "utils": "utility", "impl": "implementation",
    "init": "initialize", "exec": "execute", "prev": "previous", "src": "source",
    "dest": "destination", "tmp": "temporary", "temp": "temporary", "attr": "attribute",
    "attrs": "attribute", "val": "value", "idx": "index", "len": "length", "str": "string",
    "int": "integer", "bool": "boolean", "obj": "object", "arr": "array", "func": "function",
    "fn": "function", "dir": "directory", "lang": "language", "sched": "schedule",
    "enroll": "enrol", "ttl": "lifetime", "ids": "id",
}  # fmt: skip


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_stemmer.stemWord(ALIASES.get(word, word)))


def _parts(word: str) -> list[str]:
    return [p.lower() for p in _CAMEL.findall(word)]


def tokenize(text: str) -> list[str]:
    """BM25 terms of a text: split identifiers, lower case, no stop words, stemmed."""
    out: list[str] = []
    for word in _WORD.findall(text):
        whole = word.isdigit() or (word.islower() and word.isalpha())
        parts = [word] if whole else _parts(word)
        for part in parts:
            if len(part) < 2 or part in STOP_WORDS:
                continue
            out.append(_stem(part))
        # letters with the digits after them ("ec2", "oauth2", "v1") are a name of their own,
        # found whatever the case it is written in ("EC2", "S3Bucket", "oauth2_client")
        for a, b in itertools.pairwise(parts):
            if a.isalpha() and b.isdigit():
                out.append(_stem(a + b))
    # compound identifiers (snake_case / camelCase names) as one extra term each
    for ident in _IDENT.findall(text):
        pieces = [p for p in re.split(r"_+", ident) if p]
        n_parts = sum(len(_parts(p)) for p in pieces)
        if n_parts >= 2:
            out.append("_".join(_stem(p) for piece in pieces for p in _parts(piece)))
    return out
