def load(ctx):
    pass
