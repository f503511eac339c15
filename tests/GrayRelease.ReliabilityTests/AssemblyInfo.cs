// Every scenario loads the machine on purpose: run them one after the other so that their figures are their own.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
