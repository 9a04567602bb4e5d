/* E-mail address check. See include/careclock/email.h. */
#include "careclock/email.h"

#include <string.h>

int cc_email_valid(const char *address)
{
    if (address == NULL || strlen(address) > 254)
        return 0;
    const char *at = strchr(address, '@');
    if (at == NULL || at == address || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return 0;
    for (const unsigned char *p = (const unsigned char *)address; *p != '\0'; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == ';' || *p == '"' ||
            *p == '\\')
            return 0;
    return 1;
}
