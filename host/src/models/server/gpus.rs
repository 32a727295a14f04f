//! The run's GPUs, shared by the servers it starts: each takes its devices
//! (through `CUDA_VISIBLE_DEVICES`) for as long as it runs, and a server
//! that does not fit waits for others to stop. Servers take their turns in
//! the order of their first jobs (a checkpoint sweep goes in step order),
//! so the placement `--dry-run` shows is the one that happens.

use anyhow::{Result, bail};
use std::collections::BTreeSet;
use std::sync::Mutex;
use tokio::sync::Notify;

/// The devices of a run and which are free.
pub struct GpuPool {
    all: Vec<u32>,
    free: Mutex<Free>,
    returned: Notify,
}

/// The free devices, and whose turn it is to take some.
struct Free {
    devices: BTreeSet<u32>,
    turn: usize,
}

impl GpuPool {
    /// A pool of `devices` (device indexes as `CUDA_VISIBLE_DEVICES` takes them).
    pub fn new(devices: Vec<u32>) -> GpuPool {
        let free = Free { devices: devices.iter().copied().collect(), turn: 0 };
        GpuPool { free: Mutex::new(free), all: devices, returned: Notify::new() }
    }

    /// Every device visible to assay: `CUDA_VISIBLE_DEVICES` when set, else
    /// those `nvidia-smi` lists, else none.
    pub fn visible() -> Vec<u32> {
        if let Ok(visible) = std::env::var("CUDA_VISIBLE_DEVICES") {
            return visible.split(',').filter_map(|d| d.trim().parse().ok()).collect();
        }
        let listed = std::process::Command::new("nvidia-smi")
            .args(["--query-gpu=index", "--format=csv,noheader"])
            .stderr(std::process::Stdio::null())
            .output();
        match listed {
            Ok(output) if output.status.success() => {
                String::from_utf8_lossy(&output.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The pool's devices.
    pub fn devices(&self) -> &[u32] {
        &self.all
    }

    /// Take `count` devices for the server whose turn is `turn` (0 first),
    /// waiting until every earlier turn has taken its devices and that many
    /// are free. A server starting again (turn already passed) only waits
    /// for devices.
    pub(super) async fn take(&self, count: usize, turn: usize) -> Result<Vec<u32>> {
        loop {
            let returned = self.returned.notified();
            {
                let mut free = self.free.lock().expect("the GPU pool lock is never poisoned");
                if turn <= free.turn && count > self.all.len() {
                    free.turn = free.turn.max(turn + 1);
                    self.returned.notify_waiters();
                    bail!("needs {count} GPUs; the run's pool has {} ({})", self.all.len(), devices_text(&self.all));
                }
                if turn <= free.turn && free.devices.len() >= count {
                    let taken: Vec<u32> = free.devices.iter().take(count).copied().collect();
                    taken.iter().for_each(|d| {
                        free.devices.remove(d);
                    });
                    free.turn = free.turn.max(turn + 1);
                    self.returned.notify_waiters();
                    return Ok(taken);
                }
            }
            returned.await;
        }
    }

    /// Give devices back.
    pub(super) fn give_back(&self, devices: &[u32]) {
        self.free.lock().expect("the GPU pool lock is never poisoned").devices.extend(devices);
        self.returned.notify_waiters();
    }
}

/// `0,1,2`: devices as `CUDA_VISIBLE_DEVICES` spells them.
pub fn devices_text(devices: &[u32]) -> String {
    devices.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Where servers would run, in the order they start: each gets the first
/// free devices, and one that does not fit waits for every earlier one to
/// stop (a new wave). `None` for a server that needs more than the pool.
pub fn placement(pool: &[u32], needs: &[usize]) -> Vec<Option<(usize, Vec<u32>)>> {
    let mut free: BTreeSet<u32> = pool.iter().copied().collect();
    let mut wave = 1;
    needs
        .iter()
        .map(|&count| {
            if count > pool.len() {
                return None;
            }
            if free.len() < count {
                wave += 1;
                free = pool.iter().copied().collect();
            }
            let taken: Vec<u32> = free.iter().take(count).copied().collect();
            taken.iter().for_each(|d| {
                free.remove(d);
            });
            Some((wave, taken))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_that_fit_share_a_wave() {
        let placed = placement(&[0, 1, 2, 3], &[2, 1, 2, 5, 4]);
        assert_eq!(
            placed,
            [Some((1, vec![0, 1])), Some((1, vec![2])), Some((2, vec![0, 1])), None, Some((3, vec![0, 1, 2, 3]))]
        );
    }

    #[tokio::test]
    async fn servers_take_devices_in_turn() {
        let pool = std::sync::Arc::new(GpuPool::new(vec![4, 5]));
        // Turn 1 waits for turn 0, even with devices free.
        let second = tokio::spawn({
            let pool = pool.clone();
            async move { pool.take(1, 1).await.unwrap() }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!second.is_finished());
        let first = pool.take(2, 0).await.unwrap();
        assert_eq!(first, [4, 5]);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "no device is free");
        pool.give_back(&first);
        assert_eq!(second.await.unwrap(), [4]);
        let error = pool.take(3, 2).await.unwrap_err().to_string();
        assert_eq!(error, "needs 3 GPUs; the run's pool has 2 (4,5)");
        assert_eq!(pool.take(1, 3).await.unwrap(), [5], "a server that cannot fit does not block the next");
    }
}
