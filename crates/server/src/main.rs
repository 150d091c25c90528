fn main() -> std::process::ExitCode {
    streamshare::cli::main_entry()
}
