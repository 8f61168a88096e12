//! The small file-system trait the parser reads through, with the real implementation and an
//! in-memory one for tests.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What the parser needs to know about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// The path is a directory.
    pub is_dir: bool,
    /// The path is a regular file with an execute bit (keepalived refuses to include those).
    pub executable: bool,
}

/// Everything the parser reads from its environment: files, directory listings, environment
/// variables (for `${_ENV VAR}`) and the host name (for the default config id).
pub trait FileSystem {
    /// Reads a whole file as UTF-8 (invalid sequences may be replaced).
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    /// Metadata of `path`, following symlinks; `None` when it does not exist.
    fn metadata(&self, path: &Path) -> Option<FileMeta>;
    /// The names of the entries of directory `path` (any order, without `.`/`..`).
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// The directory relative paths are resolved against.
    fn current_dir(&self) -> PathBuf {
        PathBuf::from("/")
    }
    /// An environment variable, for `${_ENV VAR}`.
    fn env_var(&self, _name: &str) -> Option<String> {
        None
    }
    /// The host name, for the default config id (the part before the first `.` is used).
    fn hostname(&self) -> Option<String> {
        None
    }
}

/// The real file system, process environment and host name.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl FileSystem for RealFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        let bytes = std::fs::read(path)?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    fn metadata(&self, path: &Path) -> Option<FileMeta> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let executable = {
            use std::os::unix::fs::PermissionsExt;
            m.is_file() && m.permissions().mode() & 0o111 != 0
        };
        #[cfg(not(unix))]
        let executable = false;
        Some(FileMeta {
            is_dir: m.is_dir(),
            executable,
        })
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }

    fn current_dir(&self) -> PathBuf {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
    }

    fn env_var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn hostname(&self) -> Option<String> {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }
}

/// An in-memory file system for tests and fuzzing. Directories exist implicitly for every
/// stored file; the current directory is `/`.
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    files: BTreeMap<PathBuf, (String, bool)>,
    env: BTreeMap<String, String>,
    hostname: Option<String>,
}

impl MemFs {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a regular, non-executable file. Relative paths are taken from `/`.
    pub fn add(&mut self, path: impl AsRef<Path>, text: impl Into<String>) -> &mut Self {
        self.files
            .insert(Self::abs(path.as_ref()), (text.into(), false));
        self
    }

    /// Adds an executable file (which keepalived refuses to include).
    pub fn add_executable(&mut self, path: impl AsRef<Path>, text: impl Into<String>) -> &mut Self {
        self.files
            .insert(Self::abs(path.as_ref()), (text.into(), true));
        self
    }

    /// Sets an environment variable seen by `${_ENV VAR}`.
    pub fn set_env(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Sets the host name.
    pub fn set_hostname(&mut self, name: impl Into<String>) -> &mut Self {
        self.hostname = Some(name.into());
        self
    }

    fn abs(path: &Path) -> PathBuf {
        let joined = if path.is_absolute() {
            path.to_path_buf()
        } else {
            Path::new("/").join(path)
        };
        normalize(&joined)
    }
}

/// Removes `.` and resolves `..` lexically.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl FileSystem for MemFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(&Self::abs(path))
            .map(|(t, _)| t.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    fn metadata(&self, path: &Path) -> Option<FileMeta> {
        let p = Self::abs(path);
        if let Some((_, exec)) = self.files.get(&p) {
            return Some(FileMeta {
                is_dir: false,
                executable: *exec,
            });
        }
        let is_dir = p == Path::new("/") || self.files.keys().any(|k| k.starts_with(&p));
        is_dir.then_some(FileMeta {
            is_dir: true,
            executable: false,
        })
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let p = Self::abs(path);
        let mut names: Vec<String> = Vec::new();
        for k in self.files.keys() {
            if let Ok(rest) = k.strip_prefix(&p)
                && let Some(first) = rest.components().next()
            {
                let name = first.as_os_str().to_string_lossy().into_owned();
                if names.last() != Some(&name) && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        if names.is_empty() && self.metadata(&p).is_none() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such directory"));
        }
        Ok(names)
    }

    fn env_var(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn hostname(&self) -> Option<String> {
        self.hostname.clone()
    }
}
