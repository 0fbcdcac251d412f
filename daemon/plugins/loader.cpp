#include "plugins/loader.hpp"
#include "service/unique_fd.hpp"

#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace factotum::plugins {
namespace {

namespace fs = std::filesystem;

// The 1.0 descriptor ends with `shutdown`; any plugin of major 1 has at least this much.
constexpr std::size_t descriptor_size_1_0 =
    offsetof(factotum_plugin_descriptor, shutdown) + sizeof(factotum_plugin_descriptor::shutdown);

constexpr std::string_view fix_strict = " (or set plugins.strict_permissions: false)";

using Fd = service::UniqueFd;

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

std::string mode_text(mode_t mode) {
  std::array<char, 8> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return buffer.data();
}

std::string owner_text(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(4096);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    text += std::string(" (") + found->pw_name + ")";
  }
  return text;
}

// sshd's StrictModes (DESIGN.md §4.8): anyone who can write the file or its directory can run
// code as the daemon.
std::optional<std::string> check_trust(const struct stat& st, const fs::path& path,
                                       std::string_view what) {
  const uid_t me = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    return "refusing to load: " + std::string(what) + " " + path.string() + " is owned by " +
           owner_text(st.st_uid) + ", not by root or the daemon's user (" + owner_text(me) +
           "): run `chown root " + path.string() + "`" + std::string(fix_strict);
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return "refusing to load: " + std::string(what) + " " + path.string() +
           " is writable by group or others (mode " + mode_text(st.st_mode) +
           "): run `chmod go-w " + path.string() + "`" + std::string(fix_strict);
  }
  return std::nullopt;
}

FileIdentity identity_of(const struct stat& st) {
  return FileIdentity{st.st_dev, st.st_ino, st.st_size,
                      static_cast<std::int64_t>(st.st_mtim.tv_sec),
                      static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
}

std::string printable_prefix(const unsigned char* bytes, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    const unsigned char c = bytes[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      std::array<char, 8> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", static_cast<unsigned>(c));
      out += hex.data();
    }
  }
  return out;
}

bool copy_all(int from, int to, std::string& why) {
  std::array<char, 64 * 1024> buffer{};
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(from, buffer.data(), buffer.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = "cannot read it: " + errno_text(errno);
      return false;
    }
    if (n == 0) return true;
    offset += n;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(to, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        why = "cannot write its staged copy: " + errno_text(errno);
        return false;
      }
      done += w;
    }
  }
}

// DESIGN.md §4.7: plugin code is never unmapped (leftover threads, TLS destructors and
// NODELETE make dlclose unsafe or a no-op). Every library handle ends up here and the vector
// is deliberately never destroyed: a static pointer keeps it reachable, so leak checkers stay
// quiet, and no dlclose runs even from exit-time destructors.
void keep_mapped(boost::dll::shared_library library) {
  static std::mutex mutex;
  static auto* resident = new std::vector<boost::dll::shared_library>();
  std::lock_guard lock(mutex);
  resident->push_back(std::move(library));
}

bool valid_plugin_name(const char* name) {
  if (name == nullptr) return false;
  const std::size_t size = ::strnlen(name, 65);
  if (size == 0 || size > 64) return false;
  return std::all_of(name, name + size, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Boost.DLL puts dlerror()'s text in its exception; it names the staged copy, which means
// nothing to the operator, so name the original file instead.
std::string dlopen_error(const std::exception& e, const fs::path& staged, const fs::path& file) {
  std::string text = e.what();
  constexpr std::string_view marker = "(dlerror system message: ";
  if (const auto at = text.find(marker); at != std::string::npos) {
    text = text.substr(at + marker.size());
    if (!text.empty() && text.back() == ')') text.pop_back();
  }
  const std::string staged_name = staged.string();
  for (auto at = text.find(staged_name); at != std::string::npos;
       at = text.find(staged_name, at + file.string().size())) {
    text.replace(at, staged_name.size(), file.string());
  }
  return text;
}

}  // namespace

std::unique_ptr<StagingDir> StagingDir::create(std::string& why) {
  fs::path base;
  if (const char* runtime = std::getenv("RUNTIME_DIRECTORY"); runtime != nullptr && *runtime) {
    // systemd may pass several colon-separated directories; the first is ours.
    base = std::string_view(runtime).substr(0, std::string_view(runtime).find(':'));
  } else {
    std::error_code ec;
    base = fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
  }
  std::string pattern = (base / "factotum-plugins-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {  // mkdtemp makes it 0700
    why = "cannot create a plugin staging directory under " + base.string() + ": " +
          errno_text(errno);
    return nullptr;
  }
  return std::unique_ptr<StagingDir>(new StagingDir(pattern));
}

StagingDir::~StagingDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::optional<std::string> ensure_private_directory(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return "cannot create the plugin staging directory " + dir.string() + ": " + errno_text(errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return "cannot use the plugin staging directory " + dir.string() + ": " + errno_text(errno);
  }
  if (!S_ISDIR(st.st_mode))
    return "the plugin staging path " + dir.string() + " is not a directory";
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return "the plugin staging directory " + dir.string() +
           " must be private to the daemon's user (owner " + owner_text(st.st_uid) + ", mode " +
           mode_text(st.st_mode) + "): run `chmod 0700 " + dir.string() + "`";
  }
  return std::nullopt;
}

std::optional<std::string> check_directory_trust(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return "cannot check plugin directory " + dir.string() + ": " + errno_text(errno);
  }
  return check_trust(st, dir, "plugin directory");
}

std::optional<FileIdentity> identify(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  return identity_of(st);
}

std::optional<StagedFile> stage_plugin_file(const fs::path& file, const fs::path& staging_dir,
                                            std::uint64_t generation, bool strict,
                                            std::string& why) {
  // One descriptor for every check and the copy: what was checked is what gets loaded.
  const Fd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (in.get() < 0) {
    why = "cannot open it: " + errno_text(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) {
    why = "cannot stat it: " + errno_text(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
    return std::nullopt;
  }
  if (strict) {
    if (auto refused = check_trust(st, file, "plugin file")) {
      why = std::move(*refused);
      return std::nullopt;
    }
  }
  std::array<unsigned char, 4> magic{};
  const ssize_t got = ::pread(in.get(), magic.data(), magic.size(), 0);
  if (got < 0) {
    why = "cannot read it: " + errno_text(errno);
    return std::nullopt;
  }
  if (got < 4 || std::memcmp(magic.data(),
                             "\x7f"
                             "ELF",
                             4) != 0) {
    why = got == 0 ? "not an ELF file (it is empty)"
                   : "not an ELF file (starts with \"" +
                         printable_prefix(magic.data(), static_cast<std::size_t>(got)) + "\")";
    return std::nullopt;
  }

  // Unique per process and generation, so dlopen never sees a path it loaded before.
  const fs::path staged = staging_dir / (file.stem().string() + "." + std::to_string(::getpid()) +
                                         ".g" + std::to_string(generation) + ".so");
  int raw = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0500);
  if (raw < 0 && errno == EEXIST) {  // left over by a crashed process with our pid
    ::unlink(staged.c_str());
    raw = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0500);
  }
  if (raw < 0) {
    why = "cannot create its staged copy " + staged.string() + ": " + errno_text(errno);
    return std::nullopt;
  }
  Fd out(raw);
  if (!copy_all(in.get(), out.get(), why)) {
    ::unlink(staged.c_str());
    return std::nullopt;
  }
  if (::close(out.release()) != 0) {
    why = "cannot write its staged copy: " + errno_text(errno);
    ::unlink(staged.c_str());
    return std::nullopt;
  }
  struct stat after {};
  if (::fstat(in.get(), &after) != 0 || identity_of(after) != identity_of(st)) {
    why = "it changed while being copied (an install in progress?): reload again when it is done";
    ::unlink(staged.c_str());
    return std::nullopt;
  }
  return StagedFile{staged, identity_of(st)};
}

std::optional<factotum_plugin_descriptor> open_plugin(const fs::path& staged, const fs::path& file,
                                                      std::string& why) {
  boost::dll::shared_library library;
  try {
    // DESIGN.md §4.6: Boost.DLL adds RTLD_LAZY unless RTLD_NOW is in the mode (see
    // shared_library_impl.hpp "Fixing modes"), so ask for it explicitly: an unresolved symbol
    // must fail here, at load, not in the middle of a job.
    library.load(boost::dll::fs::path(staged.string()),
                 boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    why = "cannot be loaded: " + dlopen_error(e, staged, file);
    return std::nullopt;
  }

  const factotum_plugin_descriptor* (*entry)() = nullptr;
  if (library.has(FACTOTUM_PLUGIN_ENTRY_SYMBOL)) {
    entry = &library.get<const factotum_plugin_descriptor*()>(FACTOTUM_PLUGIN_ENTRY_SYMBOL);
  }
  keep_mapped(std::move(library));

  const std::string file_name = file.filename().string();
  if (entry == nullptr) {
    std::string other;
    try {
      boost::dll::library_info info(boost::dll::fs::path(staged.string()));
      for (const auto& symbol : info.symbols()) {
        if (symbol.rfind("factotum_plugin_v", 0) == 0) {
          other = symbol;
          break;
        }
      }
    } catch (const std::exception&) {
      // Only used to improve the message below.
    }
    why = "no " FACTOTUM_PLUGIN_ENTRY_SYMBOL " in " + file_name +
          (other.empty() ? ": not a factotum plugin, or built for another SDK major?"
                         : ": built for another SDK major (found " + other + ")?");
    return std::nullopt;
  }

  const factotum_plugin_descriptor* descriptor = entry();
  if (descriptor == nullptr) {
    why = FACTOTUM_PLUGIN_ENTRY_SYMBOL "() returned NULL";
    return std::nullopt;
  }
  if (descriptor->size < descriptor_size_1_0) {
    why = "its descriptor is " + std::to_string(descriptor->size) + " bytes, SDK 1.0 needs " +
          std::to_string(descriptor_size_1_0) + ": not built with the factotum SDK?";
    return std::nullopt;
  }
  const std::string built_for = "built for SDK " + std::to_string(descriptor->abi_major) + "." +
                                std::to_string(descriptor->abi_minor);
  if (descriptor->abi_major != FACTOTUM_ABI_MAJOR) {
    why = built_for + " but exports " FACTOTUM_PLUGIN_ENTRY_SYMBOL
                      ": a broken plugin (the entry point's name carries the major)";
    return std::nullopt;
  }
  if (descriptor->abi_minor > FACTOTUM_ABI_MINOR) {
    why = built_for + ", this factotum supports up to " + std::to_string(FACTOTUM_ABI_MAJOR) + "." +
          std::to_string(FACTOTUM_ABI_MINOR) + ": upgrade factotum";
    return std::nullopt;
  }
  // sdk.h: never read beyond the writer's `size`; zero-fill what an older plugin lacks.
  factotum_plugin_descriptor copy{};
  std::memcpy(&copy, descriptor, std::min<std::size_t>(descriptor->size, sizeof copy));
  if (!valid_plugin_name(copy.name)) {
    why = "invalid plugin name" +
          (copy.name == nullptr ? std::string(" (NULL)")
                                : " \"" + std::string(copy.name, ::strnlen(copy.name, 64)) + "\"") +
          ": use 1 to 64 characters of [a-z0-9_-]";
    return std::nullopt;
  }
  if (copy.init == nullptr) {
    why = "plugin '" + std::string(copy.name) + "' has no init function in its descriptor";
    return std::nullopt;
  }
  return copy;
}

}  // namespace factotum::plugins
