/* man_page.c — see man_page.h. Every string goes through roff(): text is
 * data to groff too (a line starting with '.' or '\'' would be a request, a
 * backslash an escape), and characters past ASCII are written as \[uXXXX]
 * so the page renders the same whatever the reader's locale. */
#include "man_page.h"

#include <stdint.h>
#include <string.h>

#include "cmd.h"
#include "help.h"
#include "reference.h"
#include "version.h"

/* Writes text for a filled paragraph. `line_start` tracks whether the next
 * character begins an output line (where '.' and '\'' need \&). */
static void roff(FILE *f, const char *s)
{
    bool line_start = true;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if (line_start && (c == '.' || c == '\''))
            fputs("\\&", f);
        line_start = false;
        if (c == '\\') {
            fputs("\\e", f);
        } else if (c == '-') {
            fputs("\\-", f);
        } else if (c == '\n') {
            fputc('\n', f);
            line_start = true;
            /* a blank line or leading spaces are breaks in roff: keep lists */
            while (p[1] == ' ')
                p++;
        } else if (c < 0x80) {
            fputc(c, f);
        } else {
            uint32_t cp = 0;
            int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
            cp = c & (0x3f >> extra);
            for (int i = 0; i < extra && (p[1] & 0xc0) == 0x80; i++)
                cp = (cp << 6) | (*++p & 0x3f);
            fprintf(f, "\\[u%04X]", (unsigned)cp);
        }
        p++;
    }
}

static void roff_line(FILE *f, const char *s)
{
    roff(f, s);
    fputc('\n', f);
}

static void options(FILE *f, const struct oj_cmd *c)
{
    for (int i = 0; c->opts && c->opts[i].name; i++) {
        const struct oj_opt *o = &c->opts[i];
        fputs(".TP\n", f);
        char sh = oj_opt_short(c, i);
        if (strcmp(o->name, "*") == 0) {
            fprintf(f, "\\fB\\-\\-\\fR\\fI%s\\fR \\fIVALUE\\fR\n",
                    o->value_name ? o->value_name : "name");
        } else {
            if (sh)
                fprintf(f, "\\fB\\-%c\\fR, ", sh);
            fputs("\\fB\\-\\-", f);
            roff(f, o->name);
            fputs("\\fR", f);
            if (o->takes_value) {
                fputs(" \\fI", f);
                roff(f, o->value_name ? o->value_name : "VALUE");
                fputs("\\fR", f);
            }
            fputc('\n', f);
        }
        roff_line(f, o->help);
    }
}

static void command(FILE *f, const struct oj_cmd *c)
{
    /* the heading is the command alone (a long usage would wrap it); the
     * usage follows on a line of its own */
    if (c->group)
        fprintf(f, ".SS \"oj %s %s\"\n", c->group, c->name);
    else
        fprintf(f, ".SS \"oj %s\"\n", c->name);
    fputs("\\fBoj ", f);
    if (c->group)
        fprintf(f, "%s ", c->group);
    roff(f, c->name);
    fputs("\\fR", f);
    if (c->usage[0]) {
        fputc(' ', f);
        roff(f, c->usage);
    }
    fputs("\n.br\n", f);
    roff_line(f, c->summary);
    if (c->help) {
        fputs(".PP\n", f);
        roff_line(f, c->help);
    }
    if (c->opts && c->opts[0].name)
        options(f, c);
}

void oj_man_page(FILE *f)
{
    fprintf(f, ".\\\" oj(1), written by `oj help --man` from oj's command table: do not edit.\n"
               ".TH OJ 1 \"\" \"oj %s\" \"oj manual\"\n"
               ".\\\" left-aligned, no hyphenation: option names and paths stay whole\n"
               ".ad l\n.nh\n",
            OJ_VERSION);
    fputs(".SH NAME\n"
          "oj \\- run coding agents unattended: pipelines, tmux sessions, git worktrees, locks\n"
          ".SH SYNOPSIS\n"
          ".B oj\n"
          "[\\fB\\-C\\fR \\fIDIR\\fR] \\fIcommand\\fR [\\fIargs\\fR]\n"
          ".br\n"
          ".B oj\n"
          "[\\fB\\-C\\fR \\fIDIR\\fR] \\fIgroup\\fR \\fIcommand\\fR [\\fIargs\\fR]\n"
          ".br\n"
          ".B oj\n"
          "\\fB\\-\\-remote\\fR \\fIURL\\fR \\fB\\-\\-cert\\fR \\fIFILE\\fR \\fB\\-\\-key\\fR "
          "\\fIFILE\\fR \\fB\\-\\-ca\\fR \\fIFILE\\fR \\fIcommand\\fR [\\fIargs\\fR]\n"
          ".SH DESCRIPTION\n"
          "A daemon, one per project, owns every pipeline, the tmux session each agent runs\n"
          "in, the git worktree it works in and shared locks such as merge\\-lock;\n"
          ".B oj\n"
          "is its client. The project is the nearest directory above the current one (or\n"
          "\\fB\\-C\\fR \\fIDIR\\fR) that holds \\fI.oj/\\fR or is the top of a git repository.\n"
          "Every read command takes \\fB\\-\\-json\\fR and then prints the daemon's reply with\n"
          "the field names of \\fIproto/oj.proto\\fR. Errors are one line on stderr starting\n"
          "\\(lqoj:\\(rq, saying what was wrong and what to do. Options may come before or after\n"
          "the arguments; \\fB\\-\\-\\fR ends the options.\n"
          ".SH OPTIONS\n"
          ".TP\n\\fB\\-C\\fR \\fIDIR\\fR\nrun as if started in \\fIDIR\\fR\n"
          ".TP\n\\fB\\-\\-remote\\fR \\fIURL\\fR\n"
          "run the command against the daemon listening at \\fBtls+tcp://\\fR\\fIHOST\\fR:\\fIPORT\\fR\n"
          "(its \\fBremote_listen\\fR setting), over mutual TLS; no local project is used,\n"
          "and commands that work on local files refuse (exit 2); also \\fBOJ_REMOTE\\fR\n"
          ".TP\n\\fB\\-\\-cert\\fR \\fIFILE\\fR, \\fB\\-\\-key\\fR \\fIFILE\\fR\n"
          "this client's certificate and private key (PEM), signed by the daemon's\n"
          "\\fBtls_ca\\fR; also \\fBOJ_CERT\\fR, \\fBOJ_KEY\\fR; \\fBoj remote init\\fR makes them\n"
          ".TP\n\\fB\\-\\-ca\\fR \\fIFILE\\fR\n"
          "the CA that signed the daemon's certificate, which must also name the host\n"
          "dialed; also \\fBOJ_CA\\fR\n"
          ".TP\n\\fB\\-\\-color\\fR \\fIWHEN\\fR\n"
          "colour the states in tables: \\fBauto\\fR (the default: when stdout is a terminal and\n"
          "\\fBNO_COLOR\\fR is not set), \\fBalways\\fR or \\fBnever\\fR; accepted after any command too\n"
          ".TP\n\\fB\\-q\\fR, \\fB\\-\\-quiet\\fR\n"
          "after any command: print nothing on stdout; the exit status says how it went (errors\n"
          "still go to stderr)\n"
          ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"
          "show the usage; after a command, that command's help\n"
          ".TP\n\\fB\\-\\-version\\fR\nprint the version and the protocol version\n",
          f);
    fputs(".SH COMMANDS\n", f);
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++)
        if ((*c)->group == NULL && !oj_cmd_hidden(*c))
            command(f, *c);
    for (const struct oj_group *g = oj_groups; g->name; g++) {
        for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++)
            if ((*c)->group && strcmp((*c)->group, g->name) == 0 && !oj_cmd_hidden(*c))
                command(f, *c);
    }
    fputs(".SH \"EXIT STATUS\"\n", f);
    for (const struct oj_exit_doc *e = oj_exit_docs; e->brief; e++) {
        fprintf(f, ".TP\n.B %d\n", e->code);
        roff_line(f, e->meaning);
    }
    fputs(".SH ENVIRONMENT\n", f);
    for (const struct oj_env_doc *e = oj_env_docs; e->name; e++) {
        fprintf(f, ".TP\n.B %s\n", e->name);
        roff(f, e->meaning);
        fputs(" (read by ", f);
        roff(f, e->read_by);
        if (strcmp(e->fallback, "-") != 0) {
            fputs("; default ", f);
            roff(f, e->fallback);
        }
        fputs(")\n", f);
    }
    fputs(".SH FILES\n", f);
    for (const struct oj_file_doc *d = oj_file_docs; d->path; d++) {
        fputs(".TP\n.I ", f);
        roff_line(f, d->path);
        roff_line(f, d->meaning);
    }
    fputs(".SH \"SEE ALSO\"\n"
          ".BR oj\\-runbook (5),\n"
          ".BR tmux (1),\n"
          ".BR git\\-worktree (1).\n"
          "The protocol, for writing a client of your own: the \\fI.proto\\fR files under\n"
          "\\fIshare/oj/proto/\\fR of the installation.\n",
          f);
}
