/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verb-help.h: the lines of --help that the operator's commands share (verbs.c, scan.c), so
 * that every command says an option the same way. */
#pragma once

#define HELP_SOCKET "      --socket PATH    ask the daemon at PATH (default: the socket 'lockwarden run'\n" \
                    "                       uses: /run/lockwarden/control.sock as root)\n"
#define HELP_JSON   "      --json           print the daemon's JSON (field names: lockwarden(8))\n"
#define HELP_LEGEND "      --no-legend      no header and no summary line\n"
#define HELP_FULL   "      --full           never shorten a column to fit the terminal (whole paths);\n" \
                    "                       a path is otherwise shortened in its folder, never in its\n" \
                    "                       file name (…/sessions/ID.jsonl.lock)\n"
#define HELP_HELP   "  -h, --help           show this help\n"
