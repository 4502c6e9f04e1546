// libFuzzer target for the captured-UIDL map parser (popper/uidl_map.h):
// the map is a file in drop_dir that the login reads as untrusted input.
// Input: the file's text (half of the time after a valid first line, so
// that the fuzzer reaches the entries). Checks: parsing never crashes; a
// map it accepts has valid UIDLs and formats back to the same text.
#include "popper/mbox_index.h"
#include "popper/uidl_map.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size == 0)
        return 0;
    std::string text(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    if (bytes[0] & 1)
        text = std::string(popper::kUidlMapMagic) + (bytes[0] & 2 ? " matched\n" : " captured\n") +
               text;
    auto map = popper::parse_uidl_map(text, "fuzz");
    if (!map)
        return 0;
    for (const popper::CapturedUidl& entry : map->entries)
        if (!popper::is_valid_uidl(entry.uidl))
            std::abort();
    if (popper::format_uidl_map(*map) != text)
        std::abort();
    return 0;
}
