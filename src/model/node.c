/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* node.c: a folder's application release, kept on its state dir. */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "node.h"
#include "report.h"

Node *node_release_home(Node *n) {
        for (Node *p = n; p; p = p->parent)
                if (p->kind == NODE_STATE)
                        return p;
        return n;
}

Release node_release(const Node *n) {
        if (n->release_config != RELEASE_UNKNOWN)
                return n->release_config;
        return node_release_home((Node *) n)->release;
}

bool node_release_settled(const Node *n) {
        return n->release_config != RELEASE_UNKNOWN || node_release_home((Node *) n)->release_version[0];
}

void node_set_release(Model *m, Node *n, Release r, const char *version, const char *source) {
        Node *s = node_release_home(n);

        if (s->release == r && strcmp(s->release_version, version ? version : "") == 0)
                return;
        s->release = r;
        snprintf(s->release_version, sizeof(s->release_version), "%s", version ? version : "");
        snprintf(s->release_source, sizeof(s->release_source), "%s", source);
        report_emit(m->reporter, EVENT_MONITOR_RELEASE,
                    json_pack("{s:o, s:s, s:s?, s:s}", "state_dir", json_path(NULL, s->path),
                              "release", release_to_string(r), "version", version, "source", source));
}
