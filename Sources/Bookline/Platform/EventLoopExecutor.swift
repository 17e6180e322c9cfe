import NIOCore
import NIOPosix

/// Swift Concurrency's jobs run on NIO's event loops instead of a thread pool of their own, so
/// a request no longer hops between two sets of threads on its way through the handlers (on 2
/// cores that cut the p99 of `GET /api/me` at 64 connections). Blocking work (SQLite, argon2,
/// SMTP) already runs on thread pools of its own, never on a loop.
public enum EventLoopExecutor {
    /// Call first thing in `main`, on the main thread, once.
    public static func install() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
