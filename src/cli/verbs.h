/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs.h: the operator's commands besides `run`: status, locks, holders, events and cleanup
 * ask the running daemon over its control socket; scan works alone (scan.h). Each prints an
 * aligned table, or with --json the daemon's JSON (stable field names, lockwarden(8)). */
#pragma once

#include <stdbool.h>

/* Is NAME one of the verbs handled here? */
bool verb_known(const char *name);
/* The command NAME was most likely meant to be (two edits at most), or NULL. */
const char *verb_suggest(const char *name);
/* Runs argv[1] (a known verb) with its arguments. Returns the exit status: 0 success, 1 the
 * daemon could not be reached or refused, 2 bad usage (scan: 0 nothing stale, 1 stale found,
 * 2 error). */
int verb_main(int argc, char **argv);
/* The list of all the operator's commands (lockwarden --help). */
void verbs_help(void);
/* VERB's own --help (the list of all for a verb without one). */
void verb_help(const char *verb);
