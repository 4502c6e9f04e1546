// Capturing an old server's UIDLs: capture.h.
#include "capture.h"

#include "pop3_client.h"
#include "popper/captured_uidls.h"
#include "popper/io.h"
#include "popper/mailbox_owner.h"
#include "popper/mbox_index.h"
#include "popper/users_file.h"
#include "popper/users_file_edit.h"

#include <charconv>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>

namespace popper::capture {

namespace {

// Files that hold passwords: a regular file nobody else may read. An
// admin's symlink is followed, as for the users file at login.
Result<std::string> read_secret_file(const std::string& path) {
    auto file = read_text_file(path, 64 * 1024 * 1024, /*follow_symlinks=*/true);
    if (!file)
        return file.error();
    if (file->st.st_mode & 077)
        return Error::permanent("read", path,
                                "holds passwords but group or others may read it (chmod 600)");
    return std::move(file->text);
}

std::string_view without_cr(std::string_view line) {
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    return line;
}

bool has_line_break_or_nul(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

} // namespace

Result<std::vector<Account>> read_accounts(const std::string& path, bool master) {
    auto text = read_secret_file(path);
    if (!text)
        return text.error();
    std::vector<Account> accounts;
    std::string_view rest = *text;
    for (size_t number = 1; !rest.empty(); ++number) {
        size_t eol = rest.find('\n');
        std::string_view line = without_cr(rest.substr(0, eol));
        rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
        const std::string where = path + ":" + std::to_string(number);
        if (line.empty() || line.front() == '#')
            continue;
        if (line.find('\0') != std::string_view::npos)
            return Error::permanent("read accounts", where, "a NUL octet");
        size_t space = line.find_first_of(" \t");
        Account account;
        account.name = line.substr(0, space);
        if (!is_valid_user_name(account.name))
            return Error::permanent("read accounts", where,
                                    "not a valid user name: " + account.name.substr(0, 64));
        if (space != std::string_view::npos) {
            std::string_view secret = line.substr(space + 1);
            while (!secret.empty() && (secret.front() == ' ' || secret.front() == '\t'))
                secret.remove_prefix(1);
            account.password = secret;
        }
        if (!master && account.password.empty())
            return Error::permanent("read accounts", where,
                                    "no password after the name (and no --master user)");
        if (master && !account.password.empty())
            return Error::permanent("read accounts", where,
                                    "a password after the name, but --master logs in for all");
        accounts.push_back(std::move(account));
    }
    return accounts;
}

Result<std::string> read_password_file(const std::string& path) {
    auto text = read_secret_file(path);
    if (!text)
        return text.error();
    std::string_view line = *text;
    line = without_cr(line.substr(0, line.find('\n')));
    if (line.empty() || line.find('\0') != std::string_view::npos)
        return Error::permanent("read", path, "no password on its first line");
    return std::string(line);
}

Result<UidlMap> capture_account(const OldServer& server, const Account& account, size_t& skipped) {
    skipped = 0;
    std::string login = account.name;
    std::string password = account.password;
    if (server.master) {
        login += server.master->separator + server.master->user;
        password = server.master->password;
    }
    if (has_line_break_or_nul(login) || has_line_break_or_nul(password))
        return Error::permanent("log in as", account.name, "a line break in the name or password");

    auto client = Pop3Client::connect(server.host, server.port, server.timeout_ms);
    if (!client)
        return client.error();
    if (auto hello = client->greeting(); !hello)
        return hello.error();
    if (auto user = client->command("USER " + login); !user)
        return user.error();
    if (auto pass = client->command("PASS " + password, "PASS (password not shown)"); !pass)
        return pass.error();

    // UIDL: "n uidl" per message (RFC 1939 §7).
    struct Listed {
        std::string number;
        std::string uidl;
    };
    std::vector<Listed> listed;
    Error bad_line = Error::because("", "", "");
    bool bad = false;
    if (auto uidl = client->command("UIDL"); !uidl)
        return uidl.error();
    auto body = client->read_body([&](std::string_view line) {
        size_t space = line.find(' ');
        unsigned long n = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), n);
        if (space == std::string_view::npos || ec != std::errc() || end != line.data() + space ||
            n == 0) {
            if (!bad)
                bad_line = Error::permanent("UIDL of", client->peer(),
                                            "not \"n uidl\": " + std::string(line.substr(0, 80)));
            bad = true;
            return;
        }
        std::string_view value = line.substr(space + 1);
        while (value.starts_with(' '))
            value.remove_prefix(1);
        if (!is_valid_uidl(value)) {
            ++skipped;
            return;
        }
        listed.push_back({std::string(line.substr(0, space)), std::string(value)});
    });
    if (!body)
        return body.error();
    if (bad)
        return bad_line;

    // LIST: each message's size, from which its body's follows (twins).
    std::map<std::string, uint64_t> sizes;
    if (auto list = client->command("LIST"); !list)
        return list.error();
    auto list_body = client->read_body([&](std::string_view line) {
        size_t space = line.find(' ');
        uint64_t octets = 0;
        if (space == std::string_view::npos)
            return;
        std::string_view size = line.substr(space + 1);
        size = size.substr(0, size.find(' ')); // RFC 1939 allows more after the size
        auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), octets);
        if (ec == std::errc() && end == size.data() + size.size())
            sizes[std::string(line.substr(0, space))] = octets;
    });
    if (!list_body)
        return list_body.error();

    UidlMap map;
    map.entries.reserve(listed.size());
    bool use_retr = false; // a server without TOP (RFC 1939 lists it as optional)
    for (const Listed& message : listed) {
        std::string command =
            (use_retr ? "RETR " : "TOP ") + message.number + (use_retr ? "" : " 0");
        auto status = client->command(command);
        if (!status && !use_retr && map.entries.empty()) {
            use_retr = true;
            status = client->command("RETR " + message.number);
        }
        if (!status)
            return status.error();
        std::string header;
        bool in_header = true;
        auto lines = client->read_body([&](std::string_view line) {
            if (!in_header)
                return;
            if (line.empty()) {
                header += '\n';    // counted in the header's size
                in_header = false; // TOP n 0 ends here; RETR goes on with the body
                return;
            }
            header += line;
            header += '\n';
            // header_identity() reads no further; a longer header is drained.
            if (header.size() >= kMaxIdentityHeaderSection)
                in_header = false;
        });
        if (!lines)
            return lines.error();
        CapturedUidl entry{header_identity(header), kUnknownBodyOctets, message.uidl};
        auto size = sizes.find(message.number);
        if (uint64_t octets = header_crlf_octets(header);
            size != sizes.end() && octets <= size->second)
            entry.body_octets = size->second - octets;
        map.entries.push_back(std::move(entry));
    }
    // The old server keeps every message: no DELE was sent.
    if (auto quit = client->command("QUIT"); !quit)
        return quit.error();
    return map;
}

Result<FileOwner> mailbox_owner_of(const Config& config, const std::string& name) {
    auto found =
        config.system_users ? lookup_system_user(name) : lookup_user(config.users_file, name);
    if (!found)
        return found.error();
    if (!found->entry)
        return Error::permanent("find", name,
                                "no such user in popperd's " + (config.system_users
                                                                    ? std::string("system accounts")
                                                                    : config.users_file));
    auto owner = resolve_owner(config, *found->entry);
    if (!owner)
        return owner.error();
    return FileOwner{owner->uid, owner->gid};
}

Status store_map(const Config& config, const std::string& name, const UidlMap& map,
                 std::string& path) {
    auto owner = mailbox_owner_of(config, name);
    if (!owner)
        return owner.error();
    path = uidl_map_path(config, name);
    return write_uidl_map(path, map, *owner);
}

std::string uidl_map_path(const Config& config, const std::string& name) {
    return config.drop_dir + "/" + name + ".uidl-map";
}

} // namespace popper::capture
