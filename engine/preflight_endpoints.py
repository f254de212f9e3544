"""The preflight of the OpenAI-compatible endpoints: one GET /models per endpoint (and key), before the first stage.
A server that is down, refuses the key, or does not serve the model a role names is found now, in seconds, not
after the stages before the first model stage have run and been paid for. A server that lists no models (404,
or a body that is no model list) is taken at its word that it is up: many local servers answer any model name."""

from __future__ import annotations

import difflib
import json
import os
import urllib.error
import urllib.request

from engine.config import ConfigError, RunConfig
from engine.graph import Graph
from engine.llm.openai_backend import endpoint_urls
from engine.preflight_roles import role_key, role_settings, roles_used

ENDPOINT_TIMEOUT_S = 10.0
MODELS_SHOWN = 10  # of a long model list (OpenAI's has about a hundred), the ones named in the error
MAX_LIST_BYTES = 4_000_000


def check_endpoints(config: RunConfig, graph: Graph) -> None:
    """Each role on the openai backend: its endpoints answer GET /models with its key, and serve its model when
    they list the models they serve."""
    served_by: dict[tuple[str, str | None], list[str] | None] = {}  # (url, key) -> the models it lists
    for role in roles_used(graph):
        cfg = role_settings(config, role)
        if cfg.backend != "openai":
            continue
        key = cfg.api_key or os.environ.get("OPENAI_API_KEY")
        for url in endpoint_urls(cfg.base_url):
            if (url, key) not in served_by:
                served_by[url, key] = _models_served(url, key, min(cfg.timeout_s, ENDPOINT_TIMEOUT_S),
                                                     config, role)
            served = served_by[url, key]
            if served is not None and cfg.model not in served:
                raise ConfigError(role_key(config, role, "model"),
                                  f"endpoint {url} does not serve model {cfg.model!r} (role {role!r}); "
                                  f"{_served_hint(cfg.model, served)} (check_endpoints=false skips this check)")


def _models_served(url: str, key: str | None, timeout_s: float, config: RunConfig, role: str) -> list[str] | None:
    """The model ids `url` lists, or None when it lists none; a ConfigError when it does not answer or refuses
    the key."""
    request = urllib.request.Request(f"{url.rstrip('/')}/models", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            body = reply.read(MAX_LIST_BYTES)
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            raise ConfigError(role_key(config, role, "api_key"),
                              f"endpoint {url} refused the API key (HTTP {e.code} on GET /models)") from None
        return None  # up, but with no model list (404) or none it will give (e.g. 500): the stages will tell
    except (OSError, ValueError) as e:  # refused, unresolvable, timed out, not a URL
        reason = getattr(e, "reason", None) or e
        raise ConfigError(role_key(config, role, "base_url"),
                          f"endpoint {url} does not answer GET /models ({reason}); is the server running? "
                          "(check_endpoints=false skips this check)") from None
    return _model_ids(body)


def _model_ids(body: bytes) -> list[str] | None:
    """The ids of an OpenAI model list ({"data": [{"id": ...}, ...]}); None for any other body or an empty list
    (a server that loads models on demand may list none yet)."""
    try:
        listed = json.loads(body).get("data")
    except (ValueError, AttributeError):
        return None
    if not isinstance(listed, list):
        return None
    ids = [m["id"] for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str)]
    return sorted(ids) or None


def _served_hint(model: str, served: list[str]) -> str:
    close = difflib.get_close_matches(model, served, n=1, cutoff=0.6)
    shown = ", ".join(served[:MODELS_SHOWN]) + (f" and {len(served) - MODELS_SHOWN} more"
                                                if len(served) > MODELS_SHOWN else "")
    return (f"did you mean `{close[0]}`? " if close else "") + f"it serves {shown}"
