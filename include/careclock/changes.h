/* The change queue (table changes; docs/schema.md): the children whose
 * events or rows changed since their clocks were last computed, queued by
 * triggers whoever made the change. daemon/store/changes.c is the only
 * place its SQL lives.
 */
#ifndef CARECLOCK_CHANGES_H
#define CARECLOCK_CHANGES_H

#include "careclock/store.h"

#include <stddef.h>
#include <stdint.h>

/* take: the distinct child ids (sorted) in `changes` up to its highest id,
 * which is written to *upto (0 when the queue is empty). The caller frees
 * the list with cc_store_free_ids, recomputes those children, then calls
 * ack(upto), which deletes the rows with id <= upto. Rows added after take
 * have higher ids and survive the ack. Both return 0, CC_EDB or (take)
 * CC_ENOMEM. */
int cc_store_changes_take(cc_store_t *s, int64_t *upto, char ***child_ids, size_t *n);
int cc_store_changes_ack(cc_store_t *s, int64_t upto);

#endif
