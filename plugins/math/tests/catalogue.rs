//! Every env file under `configs/envs/` using the `math` plugin, on its Hub
//! fixture (`tests/fixtures/hub/`): the env file's own `env_args` (with its
//! prompts file) configure the plugin, every record prepares, its reference
//! scores 1 and an empty reply 0. What `assay plugin check` verifies
//! through the host.

use catalogue_fixtures::{envs_of, prove};
use math::Math;

#[test]
fn every_math_env_passes_on_its_fixture() {
    let envs = envs_of("math");
    let ids: Vec<&str> = envs.iter().map(|env| env.id.as_str()).collect();
    assert_eq!(ids, ["gsm8k", "gsm8k-8shot", "math500"]);
    for env in &envs {
        assert!(prove::<Math>(env) > 0, "{}", env.id);
    }
}
