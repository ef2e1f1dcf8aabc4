/*
 * libsscma — shared declarations for every public header: the export macro, C++ linkage, the basic types.
 *
 * Included by the other headers; applications include <sscma/sscma.h> or a module header instead.
 */
#ifndef SSCMA_COMMON_H
#define SSCMA_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* SSCMA_API marks the functions exported from libsscma.so; everything else is hidden. */
#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(SSCMA_BUILDING)
#    define SSCMA_API __declspec(dllexport)
#  elif defined(SSCMA_STATIC)
#    define SSCMA_API
#  else
#    define SSCMA_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define SSCMA_API __attribute__((visibility("default")))
#else
#  define SSCMA_API
#endif

#ifdef __cplusplus
#  define SSCMA_BEGIN_DECLS extern "C" {
#  define SSCMA_END_DECLS }
#else
#  define SSCMA_BEGIN_DECLS
#  define SSCMA_END_DECLS
#endif

#endif /* SSCMA_COMMON_H */
