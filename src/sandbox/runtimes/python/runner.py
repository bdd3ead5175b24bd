# The python sandbox runner: a persistent interpreter for one session. The server sends
# newline-delimited JSON requests on fd 3 and reads the answers there (fd 3 rather than
# stdin/stdout, so a child process with inherited stdio cannot garble the protocol).
#
# Playwright for Python normally starts its own Node driver process. Here it does not: it speaks
# Playwright's protocol over a unix socket to the session's node runner, which already runs
# Playwright and serves its connected browser to this client (runtimes/node/python-host.mjs).
# Python therefore sees the very same browser, contexts and pages as node.
#
# Requests: {op:"connect"}, {op:"attach"} (also waits briefly for the current page to load),
# {op:"exec", code, timeoutMs}.
#
# Usage: python3 -E -s runner.py <site-packages> <playwright socket> <output limit> [reap]
import ast
import asyncio
import builtins
import json
import linecache
import os
import signal
import socket
import sys
import time
import traceback

SITE, SOCKET_PATH, LIMIT_ARG, *FLAGS = sys.argv[1:]
sys.path.insert(0, SITE)

from playwright._impl._impl_to_api_mapping import ImplToApiMapping  # noqa: E402,F401
from playwright._impl.browser import Browser as BrowserImpl  # noqa: E402
from playwright._impl.connection import Connection  # noqa: E402
from playwright._impl.events import Events  # noqa: E402
from playwright._impl.transport import Transport  # noqa: E402
from playwright._impl.utils.tasks import call_in_next_task, wait_for_next_task  # noqa: E402
from playwright.async_api._generated import Playwright as AsyncPlaywright  # noqa: E402
from playwright.async_api._generated import mapping  # noqa: E402

LIMIT = int(LIMIT_ARG) or 1024 * 1024
REAP = "reap" in FLAGS
TIMED_OUT = 124
CONNECT_TIMEOUT_S = 15
ATTACH_LOAD_TIMEOUT_MS = 4000
RESULT_NAME = "__interact_result__"
USER_FILE = "<interact-{}>"


# ---- output capture ----


class Capture:
    """Everything user code prints, bounded per stream; taken at the end of each run."""

    def __init__(self, limit):
        self.limit = limit
        self.reset()

    def reset(self):
        self.out = {"stdout": [], "stderr": []}
        self.size = {"stdout": 0, "stderr": 0}
        self.truncated = False

    def write(self, stream, text):
        room = self.limit - self.size[stream]
        if len(text) > room:
            self.truncated = True
            text = text[: max(0, room)]
        if text:
            self.out[stream].append(text)
            self.size[stream] += len(text)

    def take(self):
        taken = {
            "stdout": "".join(self.out["stdout"]),
            "stderr": "".join(self.out["stderr"]),
            "truncated": self.truncated,
        }
        self.reset()
        return taken


class CapturedStream:
    """A text stream whose writes land in the capture (print, sys.stdout.write, logging)."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, capture, name):
        self._capture = capture
        self._name = name

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._capture.write(self._name, text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False


capture = Capture(LIMIT)
sys.stdout = CapturedStream(capture, "stdout")
sys.stderr = CapturedStream(capture, "stderr")


# ---- the browser, through the node runner's Playwright ----


class SocketTransport(Transport):
    """Playwright's pipe framing (4-byte little-endian length, then JSON) over a unix socket."""

    def __init__(self, loop, path):
        super().__init__(loop)
        self.path = path
        self.closed = False
        self.writer = None
        # Read it once so an unobserved failure is not logged as "never retrieved".
        self.on_error_future.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def connect(self):
        try:
            self.reader, self.writer = await asyncio.open_unix_connection(self.path)
        except Exception as exc:
            self.closed = True
            self.on_error_future.set_exception(exc)
            raise

    async def run(self):
        try:
            while True:
                header = await self.reader.readexactly(4)
                data = await self.reader.readexactly(int.from_bytes(header, "little"))
                self.on_message(self.deserialize_message(data))
                # As Playwright's own pipe transport: each message is dispatched in a task of
                # its own, after every reaction to the one before.
                await wait_for_next_task()
        except (asyncio.IncompleteReadError, OSError):
            pass
        finally:
            self.closed = True
            if not self.on_error_future.done():
                self.on_error_future.set_exception(
                    ConnectionError("the session's browser connection closed")
                )

    def send(self, message):
        if self.closed or self.writer is None:
            return
        data = self.serialize_message(message)
        self.writer.write(len(data).to_bytes(4, "little") + data)

    def request_stop(self):
        self.closed = True
        if self.writer is not None:
            self.writer.close()

    async def wait_until_stopped(self):
        pass


class BrowserLink:
    """Connects lazily, reconnects after the connection went away, and picks the page."""

    def __init__(self, path):
        self.path = path
        self.transport = None
        self.connection = None
        self.browser = None
        self.playwright = None

    def connected(self):
        return (
            self.transport is not None
            and not self.transport.closed
            and self.browser is not None
            and self.browser.is_connected()
        )

    async def connect(self):
        if self.connected():
            return self.browser
        loop = asyncio.get_running_loop()
        if self.connection is not None:
            self.connection.close("reconnecting")
        transport = self.transport = SocketTransport(loop, self.path)
        connection = self.connection = Connection(loop)
        # Files for set_input_files travel inside messages: the other end is another sandbox.
        connection.mark_as_remote()
        connection.onmessage = transport.send

        def on_message(message):
            # An error in one of Playwright's listeners is raised by the next API call.
            try:
                connection.dispatch(message)
            except Exception as error:
                connection._on_event_listener_error(error)

        transport.on_message = on_message

        def on_reader_done(reader):
            if not reader.cancelled():
                reader.exception()
            # Calls in flight fail rather than wait for an answer that cannot come.
            connection.close("the session's browser connection closed")

        async def start():
            await transport.connect()
            loop.create_task(transport.run()).add_done_callback(on_reader_done)
            return await connection.initialize_playwright()

        ready = loop.create_task(start())
        # Read it once so an unobserved failure is not logged as "never retrieved".
        ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        done, _ = await asyncio.wait(
            {transport.on_error_future, ready},
            timeout=CONNECT_TIMEOUT_S,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not done:
            ready.cancel()
            transport.request_stop()
            raise TimeoutError("timed out connecting to the session's browser")
        if not ready.done():
            ready.cancel()
        impl = next(iter(done)).result()
        shared = impl._initializer.get("preLaunchedBrowser")
        if shared is None:
            raise RuntimeError("the session's browser is not available")
        browser_impl = BrowserImpl.from_(shared)
        # Closing it from python ends only python's connection, never the session's browser.
        browser_impl._should_close_connection_on_close = True

        def on_connection_close():
            # As Playwright's own connect(): python's pages, contexts and browser close with its
            # connection (the next call connects again), and so does the socket.
            transport.request_stop()
            for context in browser_impl.contexts:
                for page in context.pages:
                    page._on_close()
                context._on_close()
            call_in_next_task(browser_impl._did_close)

        connection.on("close", on_connection_close)
        browser_impl.on(Events.Browser.Disconnected, lambda _: connection.close())
        browser_impl._connect_to_browser_type(impl.chromium, {}, None)
        self.playwright = AsyncPlaywright(impl)
        self.browser = mapping.from_impl(browser_impl)
        return self.browser

    async def bind(self, scope):
        """page stays what the last run left (or the user assigned) unless it was closed."""
        browser = await self.connect()
        context = browser.contexts[0] if browser.contexts else await browser.new_context()
        page = scope.get("page")
        usable = False
        try:
            usable = (not page.is_closed()) and page.context.browser is browser
        except Exception:
            usable = False
        if not usable:
            pages = [p for p in context.pages if not p.is_closed()]
            page = pages[-1] if pages else await context.new_page()
        return {"browser": browser, "context": context, "page": page}


link = BrowserLink(SOCKET_PATH)


# ---- running code ----


class RunTimeout(BaseException):
    """Raised into user code stuck in a synchronous loop (BaseException: `except Exception`
    in user code does not swallow it)."""


scope = {"__name__": "__main__", "__builtins__": builtins}
runs = 0
running_file = None


def on_alarm(_signum, frame):
    # Only while user code itself is on the stack: an idle event loop (user code waiting on a
    # promise) is handled by asyncio's own timeout, and interrupting asyncio there would break it.
    while frame is not None:
        if frame.f_code.co_filename == running_file:
            raise RunTimeout()
        frame = frame.f_back


signal.signal(signal.SIGALRM, on_alarm)


def compile_user(code, filename):
    """The code, its last expression captured into RESULT_NAME; top-level await allowed."""
    tree = ast.parse(code, filename, "exec")
    has_result = bool(tree.body) and isinstance(tree.body[-1], ast.Expr)
    if has_result:
        last = tree.body[-1]
        assign = ast.Assign(targets=[ast.Name(id=RESULT_NAME, ctx=ast.Store())], value=last.value)
        tree.body[-1] = ast.copy_location(assign, last)
        ast.fix_missing_locations(tree)
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    return compile(tree, filename, "exec", flags=flags, dont_inherit=True), has_result


UNAWAITED = (
    "The last line returned a coroutine ({name}) that was not awaited: write `await` before it, "
    "e.g. `await page.title()`."
)


def action_timeout_ms(ms):
    """Playwright's default timeout within a run of `ms`: a tenth shorter (between half a
    second and five seconds), so its error reaches the caller before the run's own timeout."""
    return max(100, ms - min(5000, max(500, ms / 10)))


def format_result(value):
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = repr(value)
        except Exception as exc:  # a broken __repr__ must not fail the run
            text = f"<unrepresentable {type(value).__name__}: {exc}>"
    if len(text) > LIMIT:
        return text[:LIMIT], True
    return text, False


def user_traceback(exc):
    """The traceback from the first frame of user code on: the runner's frames are not theirs."""
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<interact-"):
        tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb)
    if tb is not None and lines and lines[0].startswith("Traceback"):
        return "".join(lines)
    return "".join(traceback.format_exception_only(type(exc), exc))


def describe(exc):
    name = type(exc).__name__
    text = str(exc)
    return f"{name}: {text}" if text else name


def failure(error, exit_code, killed=False):
    out = capture.take()
    return {**out, "result": "", "exitCode": exit_code, "killed": killed, "error": error}


async def run_code(code, timeout_ms):
    global runs, running_file
    runs += 1
    filename = USER_FILE.format(runs)
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        compiled, has_result = compile_user(code, filename)
    except SyntaxError as exc:
        capture.write("stderr", "".join(traceback.format_exception_only(type(exc), exc)))
        return failure(describe(exc), 1)

    try:
        bound = await link.bind(scope)
        scope.update(bound)
        # Playwright's own waits give up before the run does, so its message (the locator it
        # waited for) is the error, not "Execution timed out". Code may set its own.
        bound["context"].set_default_timeout(action_timeout_ms(timeout_ms))
    except Exception as exc:
        return failure(f"Could not connect to the session's browser: {describe(exc)}", 1)

    scope.pop(RESULT_NAME, None)
    timeout_s = timeout_ms / 1000
    running_file = filename
    signal.setitimer(signal.ITIMER_REAL, timeout_s, 0.05)
    try:
        value = eval(compiled, scope)
        if asyncio.iscoroutine(value):
            await asyncio.wait_for(value, timeout=max(0.001, timeout_s))
        last = scope.pop(RESULT_NAME, None) if has_result else None
        if asyncio.iscoroutine(last):
            # `page.title()` without await: its value was never asked for. Closed here, so
            # Python's "never awaited" warning (naming this file) does not replace the hint.
            name = getattr(last, "__qualname__", "the call")
            last.close()
            capture.write("stderr", UNAWAITED.format(name=name) + "\n")
            return failure(UNAWAITED.format(name=name), 1)
        result, cut = format_result(last)
        out = capture.take()
        return {**out, "result": result, "exitCode": 0, "killed": False,
                "truncated": out["truncated"] or cut}
    except (RunTimeout, asyncio.TimeoutError):
        return failure(f"Execution timed out after {timeout_ms} ms", TIMED_OUT, True)
    except BaseException as exc:  # noqa: BLE001 -- SystemExit and KeyboardInterrupt included
        capture.write("stderr", user_traceback(exc))
        return failure(describe(exc), 1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        running_file = None


async def reap_children():
    """Ends every process a run started. Only in the sandbox's own pid namespace (pid 2)."""
    if os.getpid() > 2:
        return
    end = time.monotonic() + 2
    while time.monotonic() < end:
        others = [d for d in os.listdir("/proc") if d.isdigit() and int(d) > 2]
        if not others:
            return
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass  # only zombies left
        collect_zombies()
        await asyncio.sleep(0.005)


def collect_zombies():
    """The runner's own children stay listed until it waits for them (init takes the rest)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


# ---- protocol ----


async def handle(req, send):
    op = req.get("op")
    if op in ("connect", "attach"):
        try:
            if op == "connect":
                await link.connect()
            else:
                bound = await link.bind(scope)
                scope.update(bound)
                try:
                    await bound["page"].wait_for_load_state("load", timeout=ATTACH_LOAD_TIMEOUT_MS)
                except Exception:
                    pass
            send({"id": req.get("id"), "ok": True})
        except Exception as exc:
            send({"id": req.get("id"), "ok": False, "error": describe(exc)})
    elif op == "exec":
        result = await run_code(str(req.get("code", "")), int(req.get("timeoutMs", 30000)))
        if REAP:
            await reap_children()
        send({"id": req.get("id"), "ok": True, "result": result})


async def main():
    channel = socket.socket(fileno=3)
    reader, writer = await asyncio.open_connection(sock=channel, limit=64 * 1024 * 1024)

    def send(msg):
        writer.write((json.dumps(msg) + "\n").encode())

    send({"op": "ready"})
    while True:
        try:
            line = await reader.readline()
        except (ValueError, OSError):
            break
        if not line:
            break  # the server closed the channel: it is done with us
        try:
            req = json.loads(line)
        except ValueError:
            continue
        if isinstance(req, dict):
            await handle(req, send)
            await writer.drain()


asyncio.run(main())
os._exit(0)
