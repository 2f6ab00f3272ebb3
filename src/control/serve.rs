//! Serving a control front-end so that no client can delay another client or
//! the main loop: a thread per listener accepts, a thread per client reads
//! its request (bounded in size, and in time as a whole, so a client trickling
//! one byte at a time is cut off), hands the work to the main loop through an
//! [`Inbox`], and writes the reply with a deadline. Only the main loop touches
//! the switch; a client that never sends or never reads holds only its own
//! thread, and only until its deadline. The control socket and the metrics
//! endpoint use it, and every front-end that follows (OpenFlow, OVSDB,
//! unixctl) must too.
use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long and how much one client may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From accepting a connection to having its whole request.
    pub request_deadline: Duration,
    /// For writing the whole reply.
    pub write_deadline: Duration,
    /// Longest request, in bytes.
    pub max_request: usize,
    /// Clients served at once; beyond, a new connection is closed at once.
    pub max_clients: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_deadline: Duration::from_secs(5),
            write_deadline: Duration::from_secs(5),
            max_request: 1 << 20,
            max_clients: 256,
        }
    }
}

/// Work for the main loop: it runs with the state the main loop owns and
/// returns the reply's bytes.
pub type Job<T> = Box<dyn FnOnce(&mut T) -> Vec<u8> + Send>;

struct Work<T> {
    job: Job<T>,
    reply: mpsc::SyncSender<Vec<u8>>,
}

/// The main loop's end: jobs from every client thread wait here.
pub struct Inbox<T> {
    rx: mpsc::Receiver<Work<T>>,
    tx: mpsc::Sender<Work<T>>,
}

impl<T> Default for Inbox<T> {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel();
        Inbox { rx, tx }
    }
}

impl<T> Inbox<T> {
    /// A handle for client threads.
    pub fn asker(&self) -> Asker<T> {
        Asker {
            tx: self.tx.clone(),
        }
    }

    /// Runs every job waiting, first waiting up to `wait` for one; returns
    /// how many ran.
    pub fn run(&self, state: &mut T, wait: Duration) -> usize {
        let mut n = 0;
        let mut next = self.rx.recv_timeout(wait).ok();
        while let Some(w) = next {
            // The client may have gone: its reply is then dropped.
            let _ = w.reply.send((w.job)(state));
            n += 1;
            next = self.rx.try_recv().ok();
        }
        n
    }
}

/// A client thread's way to the main loop.
pub struct Asker<T> {
    tx: mpsc::Sender<Work<T>>,
}

impl<T> Clone for Asker<T> {
    fn clone(&self) -> Self {
        Asker {
            tx: self.tx.clone(),
        }
    }
}

impl<T> Asker<T> {
    /// Runs `job` on the main loop and returns its reply; None when the main
    /// loop has stopped.
    pub fn ask(&self, job: Job<T>) -> Option<Vec<u8>> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.tx.send(Work { job, reply }).ok()?;
        rx.recv().ok()
    }
}

/// A connected client's stream.
pub trait Stream: Read + Write + Send + 'static {
    /// Sets the read timeout.
    fn read_timeout(&self, t: Duration) -> io::Result<()>;
    /// Sets the write timeout.
    fn write_timeout(&self, t: Duration) -> io::Result<()>;
}

impl Stream for UnixStream {
    fn read_timeout(&self, t: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(t))
    }
    fn write_timeout(&self, t: Duration) -> io::Result<()> {
        self.set_write_timeout(Some(t))
    }
}

impl Stream for std::net::TcpStream {
    fn read_timeout(&self, t: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(t))
    }
    fn write_timeout(&self, t: Duration) -> io::Result<()> {
        self.set_write_timeout(Some(t))
    }
}

/// A listening socket.
pub trait Listen: Send + 'static {
    /// Its clients' streams.
    type Conn: Stream;
    /// Waits for the next client.
    fn accept_one(&self) -> io::Result<Self::Conn>;
    /// Connects to itself, so that a blocked `accept_one` returns.
    fn wake(&self);
}

impl Listen for UnixListener {
    type Conn = UnixStream;
    fn accept_one(&self) -> io::Result<UnixStream> {
        self.accept().map(|(c, _)| c)
    }
    fn wake(&self) {
        if let Some(p) = self
            .local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(ToOwned::to_owned))
        {
            let _ = UnixStream::connect(p);
        }
    }
}

impl Listen for std::net::TcpListener {
    type Conn = std::net::TcpStream;
    fn accept_one(&self) -> io::Result<std::net::TcpStream> {
        self.accept().map(|(c, _)| c)
    }
    fn wake(&self) {
        if let Ok(mut a) = self.local_addr() {
            if a.ip().is_unspecified() {
                a.set_ip(match a {
                    std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            let _ = std::net::TcpStream::connect_timeout(&a, Duration::from_secs(1));
        }
    }
}

/// One client, seen through its limits.
pub struct Client {
    conn: Box<dyn Stream>,
    deadline: Instant,
    limits: Limits,
    buf: Vec<u8>,
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_owned())
}

impl Client {
    /// Reads up to and including `delim`; refuses a request longer than the
    /// limit or not complete by the deadline. Bytes after `delim` are kept
    /// for the next call.
    pub fn read_until(&mut self, delim: &[u8]) -> io::Result<Vec<u8>> {
        self.read_frame(|buf| {
            Ok(buf
                .windows(delim.len())
                .position(|w| w == delim)
                .map(|i| i + delim.len()))
        })
    }

    /// Reads one message whose end `frame` finds: it sees the bytes so far
    /// and answers with the message's length once it is complete, or
    /// refuses them as malformed. Refuses a message longer than the limit or
    /// not complete by the deadline; bytes after it are kept for the next
    /// call.
    pub fn read_frame(
        &mut self,
        frame: impl Fn(&[u8]) -> Result<Option<usize>, String>,
    ) -> io::Result<Vec<u8>> {
        let mut chunk = [0u8; 4096];
        let too_long = |max: usize| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("request longer than {max} bytes"),
            )
        };
        loop {
            let found =
                frame(&self.buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            // Wherever the reads happened to split it, a request is judged
            // by its own length.
            let len = found.unwrap_or(self.buf.len());
            if len > self.limits.max_request {
                return Err(too_long(self.limits.max_request));
            }
            if let Some(end) = found {
                let rest = self.buf.split_off(end);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            let left = self
                .deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| timed_out("request not complete by its deadline"))?;
            self.conn.read_timeout(left)?;
            let n = match self.conn.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(timed_out("request not complete by its deadline"))
                }
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "client closed before its request ended",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Gives the client a whole request deadline again, for front-ends that
    /// answer several requests on one connection.
    pub fn renew_deadline(&mut self) {
        self.deadline = Instant::now() + self.limits.request_deadline;
    }

    /// Reads what the client sent next, waiting up to `idle`; `Ok(None)`
    /// when nothing came in time. For connections that stay open and frame
    /// their own messages (OpenFlow): the request deadline does not apply.
    pub fn read_some(&mut self, idle: Duration) -> io::Result<Option<Vec<u8>>> {
        if !self.buf.is_empty() {
            return Ok(Some(std::mem::take(&mut self.buf)));
        }
        let mut chunk = vec![0u8; 65536];
        self.conn.read_timeout(idle)?;
        match self.conn.read(&mut chunk) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the peer closed the connection",
            )),
            Ok(n) => {
                chunk.truncate(n);
                Ok(Some(chunk))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `reply` whole, or gives up at the write deadline.
    pub fn write_reply(&mut self, reply: &[u8]) -> io::Result<()> {
        let end = Instant::now() + self.limits.write_deadline;
        let mut rest = reply;
        while !rest.is_empty() {
            let left = end
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| timed_out("reply not taken by its deadline"))?;
            self.conn.write_timeout(left)?;
            match self.conn.write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(timed_out("reply not taken by its deadline"))
                }
                Err(e) => return Err(e),
            }
        }
        self.conn.flush()
    }
}

/// What a front-end does with one client: read its request, ask the main
/// loop, write the reply.
pub type Handler<T> = Arc<dyn Fn(&mut Client, &Asker<T>) -> io::Result<()> + Send + Sync>;

/// A listener being served; dropping it stops accepting (clients already
/// being served finish by their deadlines).
pub struct Server {
    stop: Arc<AtomicBool>,
    wake: Box<dyn Fn() + Send>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `listener` on a thread of its own named `name`.
    pub fn spawn<T: 'static, L: Listen + Sync>(
        name: &str,
        listener: L,
        limits: Limits,
        asker: Asker<T>,
        handler: Handler<T>,
    ) -> io::Result<Server> {
        let stop = Arc::new(AtomicBool::new(false));
        let listener = Arc::new(listener);
        let active = Arc::new(AtomicUsize::new(0));
        let (st, l, tag) = (stop.clone(), listener.clone(), name.to_owned());
        let accept = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while !st.load(Ordering::SeqCst) {
                    let conn = match l.accept_one() {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::debug!("{tag}: accept: {e}");
                            // Out of descriptors, say: do not spin.
                            std::thread::sleep(Duration::from_millis(10));
                            continue;
                        }
                    };
                    if st.load(Ordering::SeqCst) {
                        break;
                    }
                    if active.load(Ordering::SeqCst) >= limits.max_clients {
                        tracing::warn!(
                            "{tag}: {} clients already; closing a new one",
                            limits.max_clients
                        );
                        continue;
                    }
                    active.fetch_add(1, Ordering::SeqCst);
                    let (active, asker, handler, ctag) =
                        (active.clone(), asker.clone(), handler.clone(), tag.clone());
                    let spawned = std::thread::Builder::new()
                        .name(format!("{tag}-client"))
                        .spawn(move || {
                            let mut c = Client {
                                conn: Box::new(conn),
                                deadline: Instant::now() + limits.request_deadline,
                                limits,
                                buf: Vec::new(),
                            };
                            if let Err(e) = handler(&mut c, &asker) {
                                tracing::debug!("{ctag}: client: {e}");
                            }
                            active.fetch_sub(1, Ordering::SeqCst);
                        });
                    if let Err(e) = spawned {
                        tracing::warn!("{tag}: cannot start a client thread: {e}");
                    }
                }
            })?;
        Ok(Server {
            stop,
            wake: Box::new(move || listener.wake()),
            accept: Some(accept),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        (self.wake)();
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line protocol: the reply is the request's length, counted by the
    /// main loop's state.
    fn echo_server(
        dir: &std::path::Path,
        limits: Limits,
    ) -> (Server, Inbox<u64>, std::path::PathBuf) {
        let path = dir.join("s");
        let inbox = Inbox::default();
        let handler: Handler<u64> = Arc::new(|c, ask| {
            let req = c.read_until(b"\n")?;
            let reply = ask
                .ask(Box::new(move |n: &mut u64| {
                    *n += 1;
                    format!("{} {}\n", *n, req.len()).into_bytes()
                }))
                .ok_or_else(|| io::Error::other("stopped"))?;
            c.write_reply(&reply)
        });
        let s = Server::spawn(
            "test",
            UnixListener::bind(&path).unwrap(),
            limits,
            inbox.asker(),
            handler,
        )
        .unwrap();
        (s, inbox, path)
    }

    #[test]
    fn a_request_over_the_limit_is_refused_however_the_reads_split_it() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let limits = Limits {
            max_request: 16,
            ..Limits::default()
        };
        let mut c = Client {
            conn: Box::new(b),
            deadline: Instant::now() + Duration::from_secs(5),
            limits,
            buf: Vec::new(),
        };
        // 17 bytes and the newline in one read: no read ever sees the
        // buffer over the limit before the newline.
        a.write_all(b"0123456789abcdefg\nok\n").unwrap();
        let e = c.read_until(b"\n").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // At the limit is fine.
        let mut c = Client {
            conn: Box::new(a.try_clone().unwrap()),
            deadline: Instant::now() + Duration::from_secs(5),
            limits,
            buf: b"0123456789abcde\n".to_vec(),
        };
        assert_eq!(c.read_until(b"\n").unwrap().len(), 16);
    }

    fn call(path: &std::path::Path, req: &[u8]) -> String {
        let mut s = UnixStream::connect(path).unwrap();
        // Cut off mid-request (too long), the write fails: the reply is empty.
        let _ = s.write_all(req);
        let mut out = String::new();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn idle_trickling_and_deaf_clients_delay_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            request_deadline: Duration::from_millis(800),
            ..Limits::default()
        };
        let (server, inbox, path) = echo_server(dir.path(), limits);
        let stop = Arc::new(AtomicBool::new(false));
        let main = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    inbox.run(&mut n, Duration::from_millis(10));
                }
                n
            })
        };
        let idle: Vec<_> = (0..10)
            .map(|_| UnixStream::connect(&path).unwrap())
            .collect();
        let trickle: Vec<_> = (0..10)
            .map(|_| {
                let p = path.clone();
                std::thread::spawn(move || {
                    let mut s = UnixStream::connect(&p).unwrap();
                    for _ in 0..20 {
                        if s.write_all(b"x").is_err() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        for _ in 0..5 {
            let t0 = Instant::now();
            let r = call(&path, b"hello\n");
            assert!(r.ends_with(" 6\n"), "{r:?}");
            assert!(
                t0.elapsed() < Duration::from_millis(100),
                "{:?}",
                t0.elapsed()
            );
        }
        // A request over the size limit, or never finished, gets cut off.
        let mut big = vec![b'x'; (1 << 20) + 10];
        big.push(b'\n');
        assert_eq!(call(&path, &big), "");
        let t0 = Instant::now();
        let mut s = UnixStream::connect(&path).unwrap();
        s.write_all(b"no newline").unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        assert!(out.is_empty());
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        drop(idle);
        for t in trickle {
            t.join().unwrap();
        }
        drop(server);
        stop.store(true, Ordering::SeqCst);
        assert_eq!(main.join().unwrap(), 5);
    }
}
