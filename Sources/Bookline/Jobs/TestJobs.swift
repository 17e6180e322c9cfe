import Foundation

/// Job kinds for the crash test only (BOOKLINE_TEST_JOB_KINDS=1): `test.append` waits
/// `sleep_ms`, then appends `line` to `file` unless the file already has it, which is how a job
/// with a side effect stays idempotent when a killed worker's job runs again.
enum TestJobs {
    static var handlers: [JobHandler] {
        [JobHandler(kind: "test.append", policy: JobPolicy(maxAttempts: 5, backoff: [1], timeout: .seconds(30))) { job, _ in
            guard let path = job.payload["file"], let line = job.payload["line"] else { throw PermanentJobFailure("file and line are required") }
            try await Task.sleep(for: .milliseconds(Int(job.payload["sleep_ms"] ?? "0") ?? 0))
            let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            guard !existing.split(separator: "\n").contains(Substring(line)) else { return }
            // O_APPEND: concurrent jobs each add their line; seek-then-write would overwrite one another.
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
            guard descriptor >= 0 else { throw PermanentJobFailure("cannot write \(path)") }
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            try handle.write(contentsOf: Data((line + "\n").utf8))
        }]
    }
}
