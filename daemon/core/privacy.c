/* What a feed or message shows of a child. See include/careclock/privacy.h. */
#include "careclock/privacy.h"

#include <stddef.h>

const char *cc_privacy_name(cc_privacy_t privacy)
{
    switch (privacy) {
    case CC_PRIVACY_REFERENCE: return "reference";
    case CC_PRIVACY_FULL: return "full";
    default: return "initials";
    }
}

const char *cc_privacy_shown(cc_privacy_t privacy, const char *initials, const char *full_name, int full_allowed)
{
    if (privacy == CC_PRIVACY_FULL && full_allowed && full_name != NULL && full_name[0] != '\0')
        return full_name;
    if (privacy != CC_PRIVACY_REFERENCE && initials != NULL && initials[0] != '\0')
        return initials;
    return NULL;
}
