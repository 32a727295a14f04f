//! The run's GPUs, shared by the servers it starts. Before the run, every
//! server is given its turn (the order of the servers' first jobs) and its
//! devices ([`placement`], as `--dry-run` shows them). Each then takes
//! exactly those (through `CUDA_VISIBLE_DEVICES`) for as long as it runs,
//! once every earlier turn has taken its own and the servers holding them
//! have stopped. So the placement `--dry-run` shows is the one that
//! happens, in that order.

use std::collections::BTreeSet;
use std::sync::Mutex;
use tokio::sync::Notify;

/// Where a server runs: the wave it starts in (a later wave waits for
/// servers of earlier ones to free its devices) and its devices; `Err`
/// says why it cannot run.
pub type Placed = Result<(usize, Vec<u32>), String>;

/// The devices of a run that are free, and whose turn it is to take some.
#[derive(Default)]
pub struct GpuPool {
    free: Mutex<Free>,
    returned: Notify,
}

#[derive(Default)]
struct Free {
    devices: BTreeSet<u32>,
    turn: usize,
}

impl GpuPool {
    /// A pool of `devices` (device indexes as `CUDA_VISIBLE_DEVICES` takes them).
    pub fn new(devices: &[u32]) -> GpuPool {
        let free = Free { devices: devices.iter().copied().collect(), turn: 0 };
        GpuPool { free: Mutex::new(free), returned: Notify::new() }
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

    /// Take `devices` in turn `turn` (0 first), waiting until every
    /// earlier turn has taken its devices and every one of these is free.
    pub(super) async fn take(&self, turn: usize, devices: &[u32]) {
        loop {
            let returned = self.returned.notified();
            {
                let mut free = self.free.lock().expect("the GPU pool lock is never poisoned");
                if free.turn == turn && devices.iter().all(|d| free.devices.contains(d)) {
                    devices.iter().for_each(|d| {
                        free.devices.remove(d);
                    });
                    free.turn += 1;
                    self.returned.notify_waiters();
                    return;
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

/// Where servers needing `needs` devices run, in the order they start:
/// each gets the first free devices of `pool`, and one that does not fit
/// starts a new wave, taking devices as they are freed in that order.
pub fn placement(pool: &[u32], needs: &[usize]) -> Vec<Placed> {
    let mut free: BTreeSet<u32> = pool.iter().copied().collect();
    let mut wave = 1;
    needs
        .iter()
        .map(|&count| {
            if count > pool.len() {
                let has =
                    if pool.is_empty() { "no GPUs".into() } else { format!("{} ({})", pool.len(), devices_text(pool)) };
                return Err(format!("needs {count} GPUs; the run's pool has {has} (set `gpus:` in the config)"));
            }
            if free.len() < count {
                wave += 1;
                free = pool.iter().copied().collect();
            }
            let taken: Vec<u32> = free.iter().take(count).copied().collect();
            taken.iter().for_each(|d| {
                free.remove(d);
            });
            Ok((wave, taken))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn servers_that_fit_share_a_wave() {
        let placed = placement(&[0, 1, 2, 3], &[2, 1, 2, 5, 4, 0]);
        let expected: [Placed; 6] = [
            Ok((1, vec![0, 1])),
            Ok((1, vec![2])),
            Ok((2, vec![0, 1])),
            Err("needs 5 GPUs; the run's pool has 4 (0,1,2,3) (set `gpus:` in the config)".into()),
            Ok((3, vec![0, 1, 2, 3])),
            Ok((3, vec![])),
        ];
        assert_eq!(placed, expected);
        let none = placement(&[], &[1]);
        assert_eq!(none, [Err("needs 1 GPUs; the run's pool has no GPUs (set `gpus:` in the config)".into())]);
    }

    /// Take `devices` in `turn` on another task.
    fn taking(pool: &Arc<GpuPool>, turn: usize, devices: &'static [u32]) -> tokio::task::JoinHandle<()> {
        let pool = pool.clone();
        tokio::spawn(async move { pool.take(turn, devices).await })
    }

    #[tokio::test]
    async fn a_server_waits_for_its_turn_and_exactly_its_devices() {
        let pool = Arc::new(GpuPool::new(&[4, 5, 6]));
        let pause = || tokio::time::sleep(Duration::from_millis(50));
        let third = taking(&pool, 2, &[6]);
        pause().await;
        assert!(!third.is_finished(), "turn 2 waits for turns 0 and 1, though device 6 is free");
        pool.take(0, &[4, 5]).await;
        let second = taking(&pool, 1, &[5, 6]);
        pause().await;
        assert!(!second.is_finished(), "device 5 is taken, though device 6 is free");
        pool.give_back(&[4]);
        pause().await;
        assert!(!second.is_finished(), "device 4 is not one it waits for");
        assert!(!third.is_finished(), "turn 2 waits for turn 1");
        pool.give_back(&[5]);
        tokio::time::timeout(Duration::from_secs(5), second).await.unwrap().unwrap();
        pause().await;
        assert!(!third.is_finished(), "device 6 went to turn 1");
        pool.give_back(&[5, 6]);
        tokio::time::timeout(Duration::from_secs(5), third).await.unwrap().unwrap();
    }
}
