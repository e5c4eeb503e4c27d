from mindlinks_dev.load.cli import main

raise SystemExit(main())
