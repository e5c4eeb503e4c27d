from mindlinks_dev.bench.cli import main

raise SystemExit(main())
