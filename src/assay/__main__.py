from assay.cli.main import app

app()
