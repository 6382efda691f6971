/*
 * banned.h - functions sopgate must not call. Include it last in every .c:
 * each name becomes a compile error. The time ones are not reentrant (the
 * server is threaded); the string ones overflow.
 */
#ifndef SG_CORE_BANNED_H
#define SG_CORE_BANNED_H

#define SG_BANNED(f) sorry_##f##_is_banned_in_sopgate

#undef strcpy
#define strcpy(a, b) SG_BANNED(strcpy)
#undef strcat
#define strcat(a, b) SG_BANNED(strcat)
#undef strncpy
#define strncpy(a, b, n) SG_BANNED(strncpy)
#undef sprintf
#define sprintf(...) SG_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SG_BANNED(vsprintf)
#undef strtok
#define strtok(a, b) SG_BANNED(strtok)
#undef gmtime
#define gmtime(t) SG_BANNED(gmtime)
#undef localtime
#define localtime(t) SG_BANNED(localtime)
#undef ctime
#define ctime(t) SG_BANNED(ctime)
#undef asctime
#define asctime(t) SG_BANNED(asctime)
#undef mktemp
#define mktemp(t) SG_BANNED(mktemp)
#undef rand
#define rand() SG_BANNED(rand)

#endif
