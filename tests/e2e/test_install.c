/* Installing oj: `make install` into a staging DESTDIR and into a real
 * PREFIX, the generated man pages (groff -ww, every command of the table),
 * the completions (bash for real with compgen, fish and zsh), the systemd
 * unit (systemd-analyze verify), and an installed oj working from anywhere. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "cmd.h"
#include "help.h"

static struct oj_env e;
static char repo[PATH_MAX]; /* tests run from the repository root */
static char tmp[PATH_MAX];

static void setup(void)
{
    env_setup(&e, true);
    cr_assert_not_null(getcwd(repo, sizeof repo));
    snprintf(tmp, sizeof tmp, "%s/install", e.dir);
    cr_assert_eq(mkdir(tmp, 0700), 0);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static char out[1 << 16];

/* bash -c script in the repository, with T (the scratch dir), REPO and the
 * project P in its environment; stdout and stderr into `out`. */
static int sh(const char *script)
{
    static char full[4 * PATH_MAX + 8192];
    snprintf(full, sizeof full, "export T='%s' REPO='%s' P='%s'; %s", tmp, repo, e.dir, script);
    char *argv[] = {"bash", "-c", full, NULL};
    return run_prog(repo, 120000, out, sizeof out, argv);
}

/* make install / uninstall, with generated files written under $T so two
 * runs of the suite never share them. */
#define MAKE "make -s --no-print-directory DOCS_OUT=$T/docs "

Test(install, destdir_gets_every_file_and_uninstall_takes_them_back, .init = setup,
     .fini = teardown, .timeout = 180)
{
    int rc = sh(MAKE "install DESTDIR=$T/stage PREFIX=/usr/local >/dev/null && "
                     "cd $T/stage && find . -type f | sort");
    cr_assert_eq(rc, 0, "make install failed: %s", out);
    const char *want[] = {"./usr/local/bin/oj", "./usr/local/bin/oj-fake-agent",
                          "./usr/local/share/man/man1/oj.1",
                          "./usr/local/share/man/man5/oj-runbook.5",
                          "./usr/local/share/bash-completion/completions/oj",
                          "./usr/local/share/zsh/site-functions/_oj",
                          "./usr/local/share/fish/vendor_completions.d/oj.fish",
                          "./usr/local/share/systemd/user/oj@.service",
                          "./usr/local/share/oj/runbook.json",
                          "./usr/local/share/oj/proto/oj.proto",
                          "./usr/local/share/oj/proto/wire.proto"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect(strstr(out, want[i]) != NULL, "%s not installed:\n%s", want[i], out);
    rc = sh("grep -c '^ExecStart=/usr/local/bin/oj -C %f daemon start --foreground$' "
            "$T/stage/usr/local/share/systemd/user/oj@.service");
    cr_expect_eq(rc, 0, "the unit names the oj of PREFIX, not of DESTDIR: %s", out);
    rc = sh(MAKE "uninstall DESTDIR=$T/stage PREFIX=/usr/local && cd $T/stage && "
                 "find . -type f | wc -l");
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect_eq(atoi(out), 0, "uninstall left files behind");
}

Test(install, the_man_pages_render_without_warnings_and_list_every_command, .init = setup,
     .fini = teardown, .timeout = 180)
{
    int rc = sh(MAKE "install PREFIX=$T/prefix >/dev/null && cd / && "
                     "for p in $T/prefix/share/man/man1/oj.1 $T/prefix/share/man/man5/oj-runbook.5;"
                     " do groff -ww -man -Tutf8 -z $p 2>&1; done");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect_eq(out[0], '\0', "groff warns: %s", out);
    /* man finds it the way a user's shell would, from any directory */
    rc = sh("cd / && MANPATH=$T/prefix/share/man man oj 2>&1 | col -b");
    cr_assert_eq(rc, 0, "%s", out);
    static char page[1 << 16];
    snprintf(page, sizeof page, "%s", out);
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        if (oj_cmd_hidden(*c))
            continue;
        char want[128];
        if ((*c)->group)
            snprintf(want, sizeof want, "oj %s %s", (*c)->group, (*c)->name);
        else
            snprintf(want, sizeof want, "oj %s", (*c)->name);
        cr_expect(strstr(page, want) != NULL, "man oj lacks '%s'", want);
        for (int i = 0; (*c)->opts && (*c)->opts[i].name; i++) {
            if (strcmp((*c)->opts[i].name, "*") == 0)
                continue;
            snprintf(want, sizeof want, "--%s", (*c)->opts[i].name);
            cr_expect(strstr(page, want) != NULL, "man oj lacks option %s", want);
        }
    }
    const char *sections[] = {"EXIT STATUS", "ENVIRONMENT", "FILES", "OJ_TIMEOUT", "oj-runbook(5)"};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
        cr_expect(strstr(page, sections[i]) != NULL, "man oj lacks %s", sections[i]);
    rc = sh("cd / && MANPATH=$T/prefix/share/man man 5 oj-runbook 2>&1 | col -b");
    cr_expect(rc == 0 && strstr(out, "phases") && strstr(out, "notify"), "%s", out);
}

Test(install, an_installed_oj_works_from_anywhere_without_the_source_tree, .init = setup,
     .fini = teardown, .timeout = 180)
{
    int rc = sh(MAKE "install PREFIX=$T/prefix >/dev/null && cd / && "
                     "$T/prefix/bin/oj --help && $T/prefix/bin/oj -C $P daemon start && "
                     "$T/prefix/bin/oj -C $P status && $T/prefix/bin/oj -C $P daemon stop");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "man oj") != NULL, "--help points at the man page: %s", out);
    cr_expect(strstr(out, "docs/") == NULL, "--help points into the source tree: %s", out);
}

Test(install, the_systemd_unit_verifies, .init = setup, .fini = teardown, .timeout = 180)
{
    /* An instance is a project path escaped; verify checks ExecStart exists
     * and that Documentation= names a man page man can find. */
    int rc = sh(MAKE "install PREFIX=$T/prefix >/dev/null && "
                     "u=\"$T/oj@$(systemd-escape --path \"$P\").service\" && "
                     "cp $T/prefix/share/systemd/user/oj@.service \"$u\" && "
                     "MANPATH=$T/prefix/share/man systemd-analyze verify \"$u\" 2>&1");
    cr_expect_eq(rc, 0, "systemd-analyze verify failed: %s", out);
    cr_expect_eq(out[0], '\0', "systemd-analyze verify complains: %s", out);
}

Test(install, bash_completes_commands_options_and_live_names, .init = setup, .fini = teardown,
     .timeout = 180)
{
    cr_assert_eq(env_start_daemon(&e), 0);
    char id[32];
    cr_assert_eq(env_start_agent(&e, "alpha-agent", id, sizeof id), 0);
    struct oj_out l = OJ(&e, "lock", "acquire", "merge-lock", "--holder", "me");
    cr_assert_eq(l.code, 0, "%s", l.err);
    oj_out_free(&l);
    int rc = sh(MAKE "install PREFIX=$T/prefix >/dev/null && cd $P && "
                     "export PATH=$T/prefix/bin:$PATH && "
                     "source $T/prefix/share/bash-completion/completions/oj && "
                     "t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); "
                     "COMPREPLY=(); _oj_complete; echo \"$*=${COMPREPLY[*]}\"; } && "
                     "t oj lo && t oj lock ac && t oj lock release '' && "
                     "t oj session capture al && t oj session capture --t && t oj sta && "
                     "t oj -C $P ses");
    cr_assert_eq(rc, 0, "%s", out);
    const char *want[] = {"oj lo=lock\n", "oj lock ac=acquire\n", "oj lock release =merge-lock\n",
                          "oj session capture al=alpha-agent\n",
                          "oj session capture --t=--tail\n", "oj sta=status\n"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect(strstr(out, want[i]) != NULL, "wanted '%s' in:\n%s", want[i], out);
    char ses[PATH_MAX + 32];
    snprintf(ses, sizeof ses, "oj -C %s ses=session\n", e.dir);
    cr_expect(strstr(out, ses) != NULL, "-C DIR is skipped: %s", out);
    /* no daemon: nothing printed, no error in the command line, fast */
    struct oj_out s = OJ(&e, "daemon", "stop");
    oj_out_free(&s);
    rc = sh("cd $P && source <($REPO/bin/oj completion bash) && COMP_WORDS=(oj lock release '') "
            "COMP_CWORD=3 && PATH=$REPO/bin:$PATH _oj_complete && echo \"[${COMPREPLY[*]}]\"");
    cr_expect(rc == 0 && strcmp(out, "[]\n") == 0, "without a daemon: %s", out);
}

Test(install, fish_and_zsh_completions_load, .init = setup, .fini = teardown, .timeout = 180)
{
    int rc = sh(MAKE "install PREFIX=$T/prefix >/dev/null && "
                     "zsh -n $T/prefix/share/zsh/site-functions/_oj && "
                     "fish -n $T/prefix/share/fish/vendor_completions.d/oj.fish && "
                     "PATH=$T/prefix/bin:$PATH fish -c \"source "
                     "$T/prefix/share/fish/vendor_completions.d/oj.fish; complete -C 'oj lo'; "
                     "complete -C 'oj lock rel'; complete -C 'oj session capture --ta'\"");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "lock\t") != NULL, "fish completes the group: %s", out);
    cr_expect(strstr(out, "release\t") != NULL, "fish completes its command: %s", out);
    cr_expect(strstr(out, "--tail\t") != NULL, "fish completes an option: %s", out);
}

/* A live value is data: a worktree under .oj/workspaces/ named like shell
 * syntax (an agent can make one) never runs in the user's shell on TAB, and
 * is not offered. */
Test(install, a_name_made_of_shell_syntax_is_never_run_by_completion, .init = setup,
     .fini = teardown, .timeout = 120)
{
    cr_assert_eq(env_start_daemon(&e), 0);
    int rc = sh("cd $P && git worktree add -q -b evil '.oj/workspaces/$(touch pwned-by-tab)' "
                "2>&1 && git worktree add -q -b fine .oj/workspaces/fine-ws 2>&1 && "
                "PATH=$REPO/bin:$PATH oj workspace list");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "$(touch") != NULL, "the daemon lists the odd worktree: %s", out);
    rc = sh("cd $P && export PATH=$REPO/bin:$PATH && source <(oj completion bash) && "
            "COMP_WORDS=(oj workspace diff '') COMP_CWORD=3 && _oj_complete && "
            "echo \"[${COMPREPLY[*]}]\"");
    cr_expect_eq(rc, 0, "%s", out);
    char mark[PATH_MAX + 16];
    snprintf(mark, sizeof mark, "%s/pwned-by-tab", e.dir);
    cr_expect_neq(access(mark, F_OK), 0, "completion ran the name's $(...) in the shell");
    cr_expect(strstr(out, "fine-ws") != NULL && strstr(out, "touch") == NULL,
              "plain names are offered, the odd one is not: %s", out);
}
