"""What OIDC subject each workflow job really presents to AWS (for the trust tests).

A model of GitHub's side, kept small: the repository's subject template is
`components.github_oidc.SUBJECT_CLAIM_KEYS` (`repo`, `context`, `ref`), so a job that names
an environment presents `repo:<owner/name>:environment:<env>:ref:<ref>`. Which refs a job can
run on follows from its triggers (GitHub's docs, "Events that trigger workflows"):

    push: branches [b]    refs/heads/b
    pull_request          refs/pull/<n>/merge (the merge commit GitHub checks out)
    schedule              refs/heads/<default branch>
    workflow_dispatch     any branch the person dispatching picks

and a job's `if: github.ref == '<ref>'` narrows them. Environment names with an expression
are expanded from the job's matrix or the dispatch input's options.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

REPOSITORY = "acme/platform"
DEFAULT_BRANCH = "main"
# Refs a dispatch or a push to another branch could come from, as samples.
OTHER_BRANCH = "refs/heads/feature/x"
PULL_REQUEST = "refs/pull/42/merge"


@dataclass(frozen=True)
class JobIdentity:
    """One way a job can run: its workflow, job, environment and ref, and the `sub`."""

    workflow: str
    job: str
    environment: str
    ref: str

    @property
    def sub(self) -> str:
        return f"repo:{REPOSITORY}:environment:{self.environment}:ref:{self.ref}"


def trigger_refs(document: dict) -> set[str]:
    refs: set[str] = set()
    for event, spec in (document.get("on") or {}).items():
        if event == "push":
            refs |= {f"refs/heads/{b}" for b in (spec or {}).get("branches", [DEFAULT_BRANCH])}
        elif event == "pull_request":
            refs.add(PULL_REQUEST)
        elif event == "schedule":
            refs.add(f"refs/heads/{DEFAULT_BRANCH}")
        elif event == "workflow_dispatch":
            refs |= {f"refs/heads/{DEFAULT_BRANCH}", OTHER_BRANCH}
    return refs


def _environments(document: dict, job: dict) -> list[str]:
    environment = job.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    if environment is None:
        return []
    match = re.search(r"\$\{\{\s*(matrix|inputs)\.(\w+)\s*\}\}", environment)
    if match is None:
        return [environment]
    kind, key = match.groups()
    if kind == "matrix":
        values = job["strategy"]["matrix"][key]
    else:
        values = document["on"]["workflow_dispatch"]["inputs"][key]["options"]
    return [environment.replace(match.group(0), str(v)) for v in values]


def _narrowed(job: dict, refs: set[str]) -> set[str]:
    condition = str(job.get("if", ""))
    match = re.fullmatch(r"github\.ref == '([^']+)'", condition.strip())
    return {match.group(1)} & refs if match else refs


def identities(name: str, document: dict) -> Iterator[JobIdentity]:
    """Every (environment, ref) a job that may request an OIDC token can run with."""
    refs = trigger_refs(document)
    for job_name, job in document["jobs"].items():
        if (job.get("permissions") or {}).get("id-token") != "write":
            continue
        for environment in _environments(document, job):
            for ref in sorted(_narrowed(job, refs)):
                yield JobIdentity(name, job_name, environment, ref)
