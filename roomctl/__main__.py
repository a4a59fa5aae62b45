from roomctl.cli.main import main

raise SystemExit(main())
