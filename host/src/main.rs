//! The `assay` command line; everything it does is in the library (`assay::main`).

// mimalloc: every sample allocates and frees many small buffers across
// threads (requests, replies, plugin strings, result lines), and glibc's
// allocator spent about a seventh of the host's CPU time on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    assay::main()
}
