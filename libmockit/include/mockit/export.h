// Symbol visibility: the library is built with hidden visibility; what carries MOCKIT_API is
// its public surface, in C++ and in C alike.
#ifndef MOCKIT_EXPORT_H
#define MOCKIT_EXPORT_H

#if defined(MOCKIT_STATIC)
#define MOCKIT_API
#else
#define MOCKIT_API __attribute__((visibility("default")))
#endif

#endif
