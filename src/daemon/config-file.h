/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config-file.h: the configuration file, /etc/lockwarden/lockwarden.json (--config FILE). Every
 * option of `run`, per-folder overrides and race kinds to ignore; see lockwarden.json(5).
 * The command line wins over the file. Errors name the file, line and column. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "options.h"

/* The options to run with: CLI, then the file (CLI's config_path, or the default one if it
 * exists; *RET_READ says whether a file was read) for what the command line did not set,
 * then the default state dir when no folder is configured at all. On error fills ERR ("FILE:LINE:COLUMN: what") and returns -EINVAL
 * (bad file) or another -errno. */
int config_build(const RunOptions *cli, RunOptions *ret, bool *ret_read, char *err, size_t err_size);

/* Parses TEXT as a configuration into *O (for what O->set does not mark). FILE names it in
 * errors. Exposed for the tests. */
int config_parse(const char *file, const char *text, size_t len, RunOptions *o, char *err, size_t err_size);

/* The options O as a configuration file would say them (what --check-config prints). */
json_t *config_to_json(const RunOptions *o);
/* O's folder rules as the file's "folders" says them (status shows them too). */
json_t *config_rules_json(const RunOptions *o);
