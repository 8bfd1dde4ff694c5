#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

/* libcurl's easy interface, loaded with dlopen when the first download
 * starts: linking it (or FoundationNetworking, which is built on it) would
 * load it and its TLS libraries at every start of every loom process, and
 * most never download. Option and info numbers are libcurl's stable ABI
 * (curl/curl.h, 7.88.1). */

typedef struct loom_curl {
    void *(*easy_init)(void);
    int (*easy_setopt)(void *, int, ...);
    int (*easy_perform)(void *);
    void (*easy_cleanup)(void *);
    int (*easy_getinfo)(void *, int, ...);
    const char *(*easy_strerror)(int);
    int (*global_init)(long);
} loom_curl;

enum {
    LOOM_CURLOPT_WRITEDATA = 10001,
    LOOM_CURLOPT_URL = 10002,
    LOOM_CURLOPT_ERRORBUFFER = 10010,
    LOOM_CURLOPT_WRITEFUNCTION = 20011,
    LOOM_CURLOPT_USERAGENT = 10018,
    LOOM_CURLOPT_LOW_SPEED_LIMIT = 19,
    LOOM_CURLOPT_LOW_SPEED_TIME = 20,
    LOOM_CURLOPT_NOPROGRESS = 43,
    LOOM_CURLOPT_FAILONERROR = 45,
    LOOM_CURLOPT_FOLLOWLOCATION = 52,
    LOOM_CURLOPT_XFERINFODATA = 10057,
    LOOM_CURLOPT_MAXREDIRS = 68,
    LOOM_CURLOPT_CONNECTTIMEOUT = 78,
    LOOM_CURLOPT_NOSIGNAL = 99,
    LOOM_CURLOPT_PROTOCOLS = 181,
    LOOM_CURLOPT_REDIR_PROTOCOLS = 182,
    LOOM_CURLOPT_XFERINFOFUNCTION = 20219,
    LOOM_CURLINFO_RESPONSE_CODE = 0x200002,
    LOOM_CURLPROTO_HTTP_HTTPS = 3,
    LOOM_CURL_ERROR_SIZE = 256,
    LOOM_CURL_GLOBAL_DEFAULT = 3,
    LOOM_CURLE_OK = 0,
    LOOM_CURLE_HTTP_RETURNED_ERROR = 22,
    LOOM_CURLE_WRITE_ERROR = 23,
    LOOM_CURLE_ABORTED_BY_CALLBACK = 42,
};

/* Loads libcurl; 0 when it is there, else -1 (then `error` says why). */
static inline int loom_curl_load(loom_curl *c, const char **error) {
    static const char *names[] = {"libcurl.so.4", "libcurl.so", "libcurl.4.dylib", "libcurl.dylib"};
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { *error = dlerror(); return -1; }
    c->easy_init = (void *(*)(void))dlsym(lib, "curl_easy_init");
    c->easy_setopt = (int (*)(void *, int, ...))dlsym(lib, "curl_easy_setopt");
    c->easy_perform = (int (*)(void *))dlsym(lib, "curl_easy_perform");
    c->easy_cleanup = (void (*)(void *))dlsym(lib, "curl_easy_cleanup");
    c->easy_getinfo = (int (*)(void *, int, ...))dlsym(lib, "curl_easy_getinfo");
    c->easy_strerror = (const char *(*)(int))dlsym(lib, "curl_easy_strerror");
    c->global_init = (int (*)(long))dlsym(lib, "curl_global_init");
    if (!c->easy_init || !c->easy_setopt || !c->easy_perform || !c->easy_cleanup || !c->easy_getinfo
        || !c->easy_strerror || !c->global_init) { *error = "libcurl lacks its easy interface"; return -1; }
    if (c->global_init(LOOM_CURL_GLOBAL_DEFAULT) != 0) { *error = "libcurl could not start"; return -1; }
    return 0;
}

/* curl_easy_setopt is variadic, which Swift cannot call: one wrapper per argument type. */
typedef size_t (*loom_curl_write_callback)(char *, size_t, size_t, void *);
typedef int (*loom_curl_progress_callback)(void *, int64_t, int64_t, int64_t, int64_t);

static inline int loom_curl_set_long(const loom_curl *c, void *h, int option, long value) {
    return c->easy_setopt(h, option, value);
}
static inline int loom_curl_set_pointer(const loom_curl *c, void *h, int option, const void *value) {
    return c->easy_setopt(h, option, value);
}
static inline int loom_curl_set_write(const loom_curl *c, void *h, loom_curl_write_callback f) {
    return c->easy_setopt(h, LOOM_CURLOPT_WRITEFUNCTION, f);
}
static inline int loom_curl_set_progress(const loom_curl *c, void *h, loom_curl_progress_callback f) {
    return c->easy_setopt(h, LOOM_CURLOPT_XFERINFOFUNCTION, f);
}
static inline long loom_curl_response_code(const loom_curl *c, void *h) {
    long code = 0;
    c->easy_getinfo(h, LOOM_CURLINFO_RESPONSE_CODE, &code);
    return code;
}
