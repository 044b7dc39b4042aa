import ArgumentParser
import SkeinGenCommand

GenerateCommand.main()
