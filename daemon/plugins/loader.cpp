#include "plugins/loader.hpp"
#include "plugins/descriptor.hpp"
#include "service/unique_fd.hpp"

#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <dirent.h>
#include <fcntl.h>
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

using Fd = service::UniqueFd;

std::string errno_text(int error) {
  return std::generic_category().message(error);
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

// DESIGN.md §4.7: plugin code is never unmapped once its init ran (leftover threads, TLS
// destructors and NODELETE make dlclose unsafe or a no-op). Those libraries end up here and the
// vector is deliberately never destroyed: a static pointer keeps it reachable, so leak checkers
// stay quiet, and no dlclose runs even from exit-time destructors.
void keep_resident(boost::dll::shared_library library) {
  static std::mutex mutex;
  static auto* resident = new std::vector<boost::dll::shared_library>();
  std::lock_guard lock(mutex);
  resident->push_back(std::move(library));
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

std::optional<OpenedFile> open_plugin_file(const Fd& directory, const fs::path& file, bool strict,
                                           std::string& why) {
  const std::string name = file.filename().string();
  const int raw = ::openat(directory.get(), name.c_str(),
                           O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (raw < 0) {
    const int error = errno;
    std::array<char, 4096> target{};
    const ssize_t n = ::readlinkat(directory.get(), name.c_str(), target.data(), target.size());
    if (error == ELOOP && n >= 0) {
      why = "refusing to load: it is a symbolic link (to " +
            std::string(target.data(), static_cast<std::size_t>(n)) +
            "): install the plugin file itself in the plugin directory";
    } else {
      why = "cannot open it: " + errno_text(error);
    }
    return std::nullopt;
  }
  auto fd = std::make_shared<const Fd>(raw);
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) {
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
  const ssize_t got = ::pread(fd->get(), magic.data(), magic.size(), 0);
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
  return OpenedFile{file, std::move(fd), FileIdentity::of(st)};
}

std::optional<std::vector<std::string>> list_plugin_files(const Fd& directory, std::string& why) {
  // fdopendir takes its descriptor over, and reads from its offset: give it one of its own.
  const int own = ::openat(directory.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* stream = own < 0 ? nullptr : ::fdopendir(own);
  if (stream == nullptr) {
    why = "cannot read plugin directory: " + errno_text(errno);
    if (own >= 0) ::close(own);
    return std::nullopt;
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(stream)) {
    if (is_plugin_file_name(entry->d_name)) names.emplace_back(entry->d_name);
  }
  const int error = errno;
  ::closedir(stream);
  if (error != 0) {
    why = "cannot read plugin directory: " + errno_text(error);
    return std::nullopt;
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<fs::path> stage_plugin_file(const OpenedFile& file, const fs::path& staging_dir,
                                          std::uint64_t generation, std::string& why) {
  // Unique per process and generation, so dlopen never sees a path it loaded before.
  const fs::path staged =
      staging_dir / (file.file.stem().string() + "." + std::to_string(::getpid()) + ".g" +
                     std::to_string(generation) + ".so");
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
  if (!copy_all(file.fd->get(), out.get(), why)) {
    ::unlink(staged.c_str());
    return std::nullopt;
  }
  if (::close(out.release()) != 0) {
    why = "cannot write its staged copy: " + errno_text(errno);
    ::unlink(staged.c_str());
    return std::nullopt;
  }
  struct stat after {};
  if (::fstat(file.fd->get(), &after) != 0 || FileIdentity::of(after) != file.identity) {
    why = "it changed while being copied (an install in progress?): reload again when it is done";
    ::unlink(staged.c_str());
    return std::nullopt;
  }
  return staged;
}

PluginLibrary::PluginLibrary(std::unique_ptr<boost::dll::shared_library> library) noexcept
    : library_(std::move(library)) {}
PluginLibrary::PluginLibrary(PluginLibrary&&) noexcept = default;
PluginLibrary& PluginLibrary::operator=(PluginLibrary&&) noexcept = default;
// Boost.DLL's destructor unloads the library (dlclose).
PluginLibrary::~PluginLibrary() = default;

void PluginLibrary::keep_mapped() {
  if (library_) keep_resident(std::move(*library_));
  library_.reset();
}

std::optional<OpenedPlugin> open_plugin(const fs::path& staged, const fs::path& file,
                                        std::string& why) {
  auto library = std::make_unique<boost::dll::shared_library>();
  try {
    // DESIGN.md §4.6: Boost.DLL adds RTLD_LAZY unless RTLD_NOW is in the mode (see
    // shared_library_impl.hpp "Fixing modes"), so ask for it explicitly: an unresolved symbol
    // must fail here, at load, not in the middle of a job.
    library->load(boost::dll::fs::path(staged.string()),
                  boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    why = "cannot be loaded: " + dlopen_error(e, staged, file);
    return std::nullopt;
  }

  const factotum_plugin_descriptor* (*entry)() = nullptr;
  if (library->has(FACTOTUM_PLUGIN_ENTRY_SYMBOL)) {
    entry = &library->get<const factotum_plugin_descriptor*()>(FACTOTUM_PLUGIN_ENTRY_SYMBOL);
  }
  // From here on every return but the last drops `library`: dlclose, nothing of the plugin
  // but its entry point ran.

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

  auto descriptor = check_descriptor(entry(), why);
  if (!descriptor) return std::nullopt;
  return OpenedPlugin{PluginLibrary(std::move(library)), *descriptor};
}

}  // namespace factotum::plugins
