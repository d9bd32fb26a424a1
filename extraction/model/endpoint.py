"""The model endpoint as a thing that can be down: checked before a batch, bounded per request,
and switched off for the rest of a batch once it keeps failing.

A misconfigured endpoint (nothing listening, a refused key, a model name the server does not
serve) fails every request of a batch the same way; found only per report, it costs each report
its retries and hides the cause in library output. So it is checked once, before the batch,
and named in one line. A server that trickles bytes would keep a request alive for ever under
a per-read timeout, so each request gets a total deadline. And when the endpoint fails over and
over mid-batch, a breaker stops asking: the remaining sections are queued "model unavailable"
for `xxgk extract --retry-model-failures`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import openai

try:  # openai 3 talks through httpx2, earlier releases through httpx: the transport must be its own
    import httpx2 as httpx
except ImportError:  # pragma: no cover - depends on the installed openai
    import httpx  # type: ignore[no-redef]

if TYPE_CHECKING:
    from extraction.model.llm import LLMConfig


class EndpointError(ValueError):
    """The model endpoint cannot serve this run; the message is one line naming the URL."""


_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class DeadlineTransport(httpx.BaseTransport):
    """An httpx transport that gives each request, body included, at most `deadline` seconds.

    The request runs on a worker thread and is abandoned when the deadline passes (its thread
    ends when the server gives up or the per-read timeout fires): httpx's own timeouts bound
    each read, not the whole exchange.
    """

    def __init__(self, deadline: float, inner: httpx.BaseTransport | None = None) -> None:
        self.deadline = deadline
        self.inner = inner or httpx.HTTPTransport()
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="xxgk-http")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        def whole() -> httpx.Response:
            response = self.inner.handle_request(request)
            try:
                content = response.read()
            finally:
                response.close()
            # The body is already decoded: its encoding and length headers no longer describe it.
            headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _BODY_HEADERS]
            return httpx.Response(response.status_code, headers=headers, content=content)

        future = self.pool.submit(whole)
        try:
            return future.result(timeout=self.deadline)
        except FutureTimeout as exc:
            raise httpx.ReadTimeout(f"no complete answer within {self.deadline:g} s", request=request) from exc

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.inner.close()


def http_client(deadline: float, timeout: float) -> httpx.Client:
    """The httpx client the openai client uses: openai's defaults, with the total deadline."""
    return openai.DefaultHttpxClient(transport=DeadlineTransport(deadline), timeout=timeout)


def check(config: LLMConfig) -> None:
    """Raise EndpointError unless the endpoint answers, takes the key and serves the model."""
    client = config.openai_client().with_options(max_retries=0)
    url = config.base_url
    try:
        served = [m.id for m in client.models.list()]
    except openai.AuthenticationError as exc:
        raise EndpointError(f"the model endpoint {url} refused the API key (HTTP 401): set XXGK_LLM_API_KEY") from exc
    except openai.PermissionDeniedError as exc:
        raise EndpointError(f"the model endpoint {url} denied access (HTTP 403): {_short(exc)}") from exc
    except openai.NotFoundError:
        return  # a server without a model list: the mode probe will find out
    except openai.APIStatusError as exc:
        if exc.status_code in (405, 501):
            return  # the same, said otherwise
        raise EndpointError(f"the model endpoint {url} failed (HTTP {exc.status_code}): {_short(exc)}") from exc
    except openai.APIConnectionError as exc:  # includes timeouts
        raise EndpointError(f"the model endpoint {url} is not reachable: {_short(exc)}") from exc
    if served and config.model not in served:
        shown = ", ".join(served[:12]) + (" …" if len(served) > 12 else "")
        raise EndpointError(f"the model endpoint {url} does not serve model {config.model!r}; it serves: {shown}")
    if config.mode:
        check_mode(config)


MODE_CHECK = "xxgk mode check: reply with the token."
_TOKEN = {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}


def check_mode(config: LLMConfig) -> None:
    """Raise EndpointError when the server refuses requests of the configured instructor mode.

    A mode given by hand (--llm-mode, XXGK_LLM_MODE) is not probed; a server that rejects its
    requests (tools or response_format it does not support) would fail every section of the
    batch the same way. One small request in that mode, before the batch, names it instead.
    What the model answers is not judged here: only whether the server takes the request.
    """
    client = config.openai_client().with_options(max_retries=0)
    shape: dict = {}
    if config.mode == "TOOLS":
        shape = {
            "tools": [{"type": "function", "function": {"name": "check", "parameters": _TOKEN}}],
            "tool_choice": {"type": "function", "function": {"name": "check"}},
        }
    elif config.mode == "JSON_SCHEMA":
        shape = {"response_format": {"type": "json_schema", "json_schema": {"name": "check", "schema": _TOKEN}}}
    try:
        client.chat.completions.create(
            model=config.model, messages=[{"role": "user", "content": MODE_CHECK}], max_tokens=20, **shape
        )
    except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
        raise EndpointError(
            f"the model endpoint {config.base_url} rejects {config.mode} requests (HTTP {exc.status_code}: "
            f"{_short(exc)}); leave --llm-mode / XXGK_LLM_MODE unset to probe what it supports"
        ) from exc
    except openai.APIError as exc:
        found = fatal(exc, config.base_url)
        if found is not None:
            raise found from exc
        raise EndpointError(
            f"the model endpoint {config.base_url} failed a {config.mode} request: {_short(exc)}"
        ) from exc


def fatal(error: openai.APIError, url: str | None) -> EndpointError | None:
    """A probe failure that no mode would fix: the endpoint is down, refuses us, or lacks the model."""
    if isinstance(error, openai.APITimeoutError):
        return EndpointError(f"the model endpoint {url} did not answer in time (XXGK_LLM_TIMEOUT): {_short(error)}")
    if isinstance(error, openai.APIConnectionError):
        return EndpointError(f"the model endpoint {url} is not reachable: {_short(error)}")
    if isinstance(error, openai.AuthenticationError):
        return EndpointError(f"the model endpoint {url} refused the API key (HTTP 401): set XXGK_LLM_API_KEY")
    if isinstance(error, openai.NotFoundError):
        return EndpointError(f"the model endpoint {url} answered 404 (unknown model or path): {_short(error)}")
    if isinstance(error, openai.APIStatusError) and (error.status_code >= 500 or error.status_code == 429):
        return EndpointError(f"the model endpoint {url} failed (HTTP {error.status_code}): {_short(error)}")
    return None


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 160 else text[:157] + "…"


@dataclass
class Breaker:
    """Consecutive failed model requests across a batch; open after `limit` of them in a row."""

    limit: int = 5
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def open(self) -> bool:
        return self.failures >= self.limit

    def record(self, failed: bool) -> None:
        with self.lock:
            self.failures = self.failures + 1 if failed else 0
