// SPDX-License-Identifier: MIT
// Symbol visibility: the library is built with hidden visibility, and what carries MOCKIT_API,
// the functions of mockit.h, is its whole surface (libmockit/exports.map hides everything else).
#ifndef MOCKIT_EXPORT_H
#define MOCKIT_EXPORT_H

#if defined(MOCKIT_STATIC)
#define MOCKIT_API
#else
#define MOCKIT_API __attribute__((visibility("default")))
#endif

#endif
