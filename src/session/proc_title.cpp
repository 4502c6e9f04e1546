#include "popper/proc_title.h"

#include <cstring>
#include <unistd.h>

extern char** environ;

namespace popper {

namespace {
char* title_area = nullptr;
size_t title_capacity = 0;
} // namespace

void proc_title_init(int argc, char** argv) {
    if (argc <= 0 || argv == nullptr || argv[0] == nullptr)
        return;
    // argv and environ strings are contiguous; the title may use all of it
    // once the environment lives elsewhere.
    char* end = argv[argc - 1] + std::strlen(argv[argc - 1]) + 1;
    size_t env_count = 0;
    for (char** e = environ; e && *e; ++e, ++env_count) {
        if (*e == end)
            end = *e + std::strlen(*e) + 1;
    }
    // One block for all the strings, kept reachable from here: unsetenv()
    // may later drop pointers from environ, and that must not leak them.
    size_t total = 0;
    for (size_t i = 0; i < env_count; ++i)
        total += std::strlen(environ[i]) + 1;
    static char* strings = nullptr;
    static char** moved = nullptr;
    strings = new char[total + 1];
    moved = new char*[env_count + 1];
    char* next = strings;
    for (size_t i = 0; i < env_count; ++i) {
        size_t len = std::strlen(environ[i]) + 1;
        std::memcpy(next, environ[i], len);
        moved[i] = next;
        next += len;
    }
    moved[env_count] = nullptr;
    environ = moved;
    // Keep argv[1..] readable by getopt (already parsed by then) but unused.
    title_area = argv[0];
    title_capacity = static_cast<size_t>(end - argv[0]);
}

void set_proc_title(const std::string& title) {
    if (title_area == nullptr || title_capacity < 2)
        return;
    size_t len = std::min(title.size(), title_capacity - 1);
    std::memcpy(title_area, title.data(), len);
    std::memset(title_area + len, '\0', title_capacity - len);
}

} // namespace popper
