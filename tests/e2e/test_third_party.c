/* The README's third-party client: its Python block, run as written against a
 * real daemon, with modules generated from proto/ alone. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, false); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

/* The text between the README's client-example markers, without the fences. */
static char *readme_client(void)
{
    char *readme = read_file("README.md");
    cr_assert_not_null(readme, "tests run from the repository root");
    char *begin = strstr(readme, "<!-- client-example:begin -->");
    char *end = begin ? strstr(begin, "<!-- client-example:end -->") : NULL;
    cr_assert(begin && end, "README.md lacks the client-example markers");
    char *code = strstr(begin, "```python\n");
    cr_assert(code && code < end, "no ```python block between the markers");
    code += strlen("```python\n");
    char *fence = strstr(code, "```");
    cr_assert(fence && fence < end);
    char *out = strndup(code, (size_t)(fence - code));
    free(readme);
    return out;
}

/* Not in the README: the same calls with a method name oj.Control lacks;
 * prints the reply's status name and whether the request id came back. */
static char UNKNOWN_METHOD_PY[] =
    "import ctypes, sys\n"
    "import wire_pb2\n"
    "nng = ctypes.CDLL('libnng.so.1')\n"
    "class Socket(ctypes.Structure):\n"
    "    _fields_ = [('id', ctypes.c_uint32)]\n"
    "sock = Socket()\n"
    "assert nng.nng_req0_open(ctypes.byref(sock)) == 0\n"
    "nng.nng_socket_set_ms(sock, b'recv-timeout', 5000)\n"
    "assert nng.nng_dial(sock, f'ipc://{sys.argv[1]}/.oj/daemon.sock'.encode(), None, 0) == 0\n"
    "frame = wire_pb2.RequestFrame(method='NoSuchMethod', request_id=424242)\n"
    "data = frame.SerializeToString()\n"
    "assert nng.nng_send(sock, data, len(data), 0) == 0\n"
    "buf, size = ctypes.c_void_p(), ctypes.c_size_t()\n"
    "assert nng.nng_recv(sock, ctypes.byref(buf), ctypes.byref(size), 1) == 0\n"
    "reply = wire_pb2.ReplyFrame.FromString(ctypes.string_at(buf, size.value))\n"
    "nng.nng_free(buf, size)\n"
    "print(wire_pb2.StatusCode.Name(reply.status), f'echo={int(reply.request_id == 424242)}',\n"
    "      reply.message)\n";

Test(third_party, python_status_from_readme, .init = setup, .fini = teardown, .timeout = 120)
{
    struct oj_out start = OJ(&e, "daemon", "start");
    cr_assert_eq(start.code, 0, "%s", start.err);
    oj_out_free(&start);

    char script[256], gen[256];
    snprintf(script, sizeof script, "%s/status_client.py", e.dir);
    snprintf(gen, sizeof gen, "--python_out=%s", e.dir);
    char *code = readme_client();
    FILE *f = fopen(script, "w");
    cr_assert_not_null(f);
    fputs(code, f);
    fclose(f);
    free(code);

    char out[4096];
    char *protoc[] = {"protoc", gen, "-Iproto", "proto/wire.proto", "proto/oj.proto", NULL};
    cr_assert_eq(run_prog(NULL, 30000, out, sizeof out, protoc), 0, "protoc: %s", out);

    char pypath[300];
    snprintf(pypath, sizeof pypath, "PYTHONPATH=%s", e.dir);
    char *py[] = {"env", pypath, "/usr/bin/python3", script, e.dir, NULL};
    char *unknown[] = {"env", pypath, "/usr/bin/python3", "-c", UNKNOWN_METHOD_PY, e.dir, NULL};
    int rc = run_prog(NULL, 60000, out, sizeof out, py);
    cr_assert_eq(rc, 0, "the README client failed (exit %d): %s", rc, out);
    char want[64];
    pid_t pid = env_daemon_pid(&e);
    cr_assert_gt(pid, 0, "no daemon holds .oj/daemon.pid");
    snprintf(want, sizeof want, "daemon pid %d,", (int)pid);
    cr_expect(strstr(out, want) != NULL, "want '%s' in: %s", want, out);
    cr_expect(strstr(out, "of 10") != NULL, "the session limit comes through: %s", out);

    /* A method oj.Control does not have: the frame is answered, not dropped,
     * with UNKNOWN_METHOD and the request id echoed. */
    cr_expect_eq(run_prog(NULL, 60000, out, sizeof out, unknown), 0, "%s", out);
    cr_expect(strstr(out, "UNKNOWN_METHOD echo=1") != NULL, "%s", out);

    /* With the daemon down the same client says so and fails. */
    struct oj_out stop = OJ(&e, "daemon", "stop");
    oj_out_free(&stop);
    rc = run_prog(NULL, 60000, out, sizeof out, py);
    cr_expect_neq(rc, 0);
    cr_expect(strstr(out, "daemon not running") != NULL, "%s", out);
}
