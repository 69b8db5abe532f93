"""What every app's workflow table shares."""


class TransitionNotAllowed(Exception):
    """A move the workflow table or the actor's permissions do not allow. Each app's
    `workflow.TransitionNotAllowed` subclasses this, so shared code can catch them all."""
